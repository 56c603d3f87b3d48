package snmp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
)

// System group objects (SNMPv2-MIB, RFC 3418) read to identify an agent.
const (
	OIDSysDescr    = "1.3.6.1.2.1.1.1.0"
	OIDSysObjectID = "1.3.6.1.2.1.1.2.0"
	OIDSysName     = "1.3.6.1.2.1.1.5.0"
)

// Identity is what an agent says it is, and the profile chosen for it.
type Identity struct {
	SysObjectID string `json:"sys_object_id"`
	SysDescr    string `json:"sys_descr,omitempty"`
	SysName     string `json:"sys_name,omitempty"`
	// Profile is the chosen profile, nil when none fits.
	Profile *profiles.Profile `json:"-"`
	// Why says how the profile was chosen (or why none was), for logs
	// and `probe`.
	Why string `json:"why"`
}

// ProfileName is the chosen profile's name, "" when none fits.
func (id *Identity) ProfileName() string {
	if id.Profile == nil {
		return ""
	}
	return id.Profile.Name
}

// Detect asks an agent for its system group and picks the profile that
// fits it from set: the candidates of set.Candidates in order, each
// taken if it has no detect_oid or the agent answers that object. An
// agent that does not answer at all is an error; one that answers but
// fits no profile is an Identity with a nil Profile.
func Detect(ctx context.Context, tr Transport, set profiles.Set) (Identity, error) {
	pkt, err := tr.Get(ctx, []string{OIDSysObjectID, OIDSysDescr, OIDSysName})
	if err != nil {
		return Identity{}, fmt.Errorf("get sysObjectID: %w", err)
	}
	var id Identity
	vars := pkt.Variables
	if pkt.Error != gosnmp.NoError {
		// v1 noSuchName on one of them spoils the PDU: ask one by one.
		vars = nil
		for _, oid := range []string{OIDSysObjectID, OIDSysDescr, OIDSysName} {
			if pkt, err = tr.Get(ctx, []string{oid}); err != nil {
				return Identity{}, fmt.Errorf("get %s: %w", oid, err)
			}
			if pkt.Error == gosnmp.NoError {
				vars = append(vars, pkt.Variables...)
			}
		}
	}
	for _, v := range vars {
		switch trimDot(v.Name) {
		case OIDSysObjectID:
			if s, ok := v.Value.(string); ok && v.Type == gosnmp.ObjectIdentifier {
				id.SysObjectID = trimDot(s)
			}
		case OIDSysDescr:
			id.SysDescr = text(v)
		case OIDSysName:
			id.SysName = text(v)
		}
	}
	var tried []string
	for _, p := range set.Candidates(id.SysObjectID) {
		how := "sysObjectID " + id.SysObjectID + " matches its sysobjectid"
		if len(p.SysObjectID) == 0 || p.MatchSysObjectID(id.SysObjectID) == 0 {
			how = "no vendor profile fits sysObjectID " + orNone(id.SysObjectID)
		}
		if p.DetectOID != "" {
			ok, err := answers(ctx, tr, p.DetectOID)
			if err != nil {
				return id, fmt.Errorf("profile %s: get %s: %w", p.Name, p.DetectOID, err)
			}
			if !ok {
				tried = append(tried, fmt.Sprintf("%s (no %s)", p.Name, p.DetectOID))
				continue
			}
			how += " and the agent answers " + p.DetectOID
		}
		if len(tried) > 0 {
			how += "; tried " + strings.Join(tried, ", ")
		}
		id.Profile, id.Why = p, how
		return id, nil
	}
	id.Why = "no profile fits sysObjectID " + orNone(id.SysObjectID)
	if len(tried) > 0 {
		id.Why += "; tried " + strings.Join(tried, ", ")
	}
	return id, nil
}

func orNone(oid string) string {
	if oid == "" {
		return "(none)"
	}
	return oid
}

// answers says whether the agent has the object oid.
func answers(ctx context.Context, tr Transport, oid string) (bool, error) {
	pkt, err := tr.Get(ctx, []string{oid})
	if err != nil {
		return false, err
	}
	if pkt.Error != gosnmp.NoError || len(pkt.Variables) == 0 {
		return false, nil
	}
	switch pkt.Variables[0].Type {
	case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
		return false, nil
	}
	return true, nil
}

func text(v gosnmp.SnmpPDU) string {
	if b, ok := v.Value.([]byte); ok && v.Type == gosnmp.OctetString {
		return strings.TrimSpace(string(b))
	}
	return ""
}

// DetectTarget opens a client to t, runs Detect and closes the client.
// Each request waits at most timeout/(retries+1) per try; ctx bounds the
// whole. wrap, when not nil, wraps the client (discovery paces its
// requests so).
func DetectTarget(ctx context.Context, t collectors.Target, timeout time.Duration, retries int, set profiles.Set, wrap ...func(Transport) Transport) (Identity, error) {
	c, err := newClient(t, timeout, retries)
	if err != nil {
		return Identity{}, err
	}
	defer c.Close()
	var tr Transport = c
	for _, w := range wrap {
		tr = w(tr)
	}
	return Detect(ctx, tr, set)
}
