// Package snmpsim is the SNMP agent simulator (v1 and v2c): one UDP
// socket per simulated device, answering from collectors/sim's values.
// It serves `roomwatch sim`, demos and the SNMP poller's tests.
package snmpsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/snmp"
)

// Values is what the agent simulator serves from: the simulated devices'
// profiles and current raw values. *sim.Store implements it.
type Values interface {
	// Profile returns the profile a device serves, or nil.
	Profile(device string) *profiles.Profile
	// Raw returns the raw wire number of a field.
	Raw(device, field string) (float64, bool)
	// Text returns the string of an OCTET STRING field.
	Text(device, field string) (string, bool)
}

// Agent is a simulated SNMP agent (v1 and v2c; GET, GETNEXT, GETBULK)
// serving simulated devices, one UDP socket per device. Each profile
// field is one object: a scalar at its OID, a walked column as its row 1
// (OID.1); a table column shared by name with an earlier table is left
// out. The profile's type decides the BER type; unknown OIDs answer
// noSuchObject (v2c) or noSuchName (v1). It never accepts a SET.
type Agent struct {
	store Values
	log   *slog.Logger
	// sysOIDs overrides the sysObjectID a device serves (SetSysObjectID).
	sysOIDs map[string]string
}

// DefaultSysObjectID is the sysObjectID a simulated device serves when
// its profile has no exact sysobjectid pattern and none was set:
// NET-SNMP-TC netSnmpAgentOIDs.linux, what net-snmp's snmpd on Linux
// answers (a UPS-MIB card on a generic agent).
const DefaultSysObjectID = "1.3.6.1.4.1.8072.3.2.10"

// SetSysObjectID makes device answer oid as its sysObjectID. Call it
// before Serve.
func (a *Agent) SetSysObjectID(device, oid string) {
	if a.sysOIDs == nil {
		a.sysOIDs = map[string]string{}
	}
	a.sysOIDs[device] = trimDot(oid)
}

// SysObjectID is the sysObjectID device serves: the one set, else the
// profile's first sysobjectid pattern (a subtree pattern as its root
// OID), else DefaultSysObjectID.
func (a *Agent) SysObjectID(device string, p *profiles.Profile) string {
	if oid, ok := a.sysOIDs[device]; ok {
		return oid
	}
	if p != nil && len(p.SysObjectID) > 0 {
		return trimDot(strings.TrimSuffix(p.SysObjectID[0], ".*"))
	}
	return DefaultSysObjectID
}

// maxBulkVarbinds bounds a GETBULK answer.
const maxBulkVarbinds = 256

// NewAgent returns an agent serving the devices in store.
func NewAgent(store Values, log *slog.Logger) *Agent {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Agent{store: store, log: log}
}

// mib is one device's objects in OID order.
type mib struct {
	prof    *profiles.Profile
	oids    []string          // sorted, no leading dot
	fields  []*profiles.Field // nil for a fixed object
	fixed   map[int]gosnmp.SnmpPDU
	byOID   map[string]int
	dotOIDs []string // with a leading dot, as gosnmp names varbinds
}

// buildMIB lays out a device's objects: the profile's fields, plus the
// system group (sysDescr, sysObjectID, sysName) and the profile's
// detect_oid, as a real agent of the kind serves them.
func buildMIB(p *profiles.Profile, device, sysOID string) *mib {
	m := &mib{prof: p, byOID: map[string]int{}, fixed: map[int]gosnmp.SnmpPDU{}}
	type obj struct {
		oid string
		f   *profiles.Field
		pdu gosnmp.SnmpPDU
	}
	objs := []obj{
		{oid: snmp.OIDSysDescr, pdu: gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("roomwatch simulated " + p.Description)}},
		{oid: snmp.OIDSysObjectID, pdu: gosnmp.SnmpPDU{Type: gosnmp.ObjectIdentifier, Value: "." + sysOID}},
		{oid: snmp.OIDSysName, pdu: gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte(device)}},
	}
	if p.DetectOID != "" {
		objs = append(objs, obj{oid: trimDot(p.DetectOID), pdu: gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("roomwatch simulated " + p.Name)}})
	}
	served := map[string]bool{}
	for i := range p.Fields {
		f := &p.Fields[i]
		if f.Rows != "" && served[f.Name] {
			// The same value in another table (apc-env's uio and iem
			// probes): the device has one probe, in the first table.
			continue
		}
		served[f.Name] = true
		oid := trimDot(f.OID)
		if f.Walk {
			oid += ".1"
		}
		objs = append(objs, obj{oid: oid, f: f})
	}
	sort.Slice(objs, func(i, j int) bool { return snmp.CompareOID(objs[i].oid, objs[j].oid) < 0 })
	for _, o := range objs {
		if _, dup := m.byOID[o.oid]; dup {
			continue
		}
		if o.f == nil {
			o.pdu.Name = "." + o.oid
			m.fixed[len(m.oids)] = o.pdu
		}
		m.byOID[o.oid] = len(m.oids)
		m.oids = append(m.oids, o.oid)
		m.dotOIDs = append(m.dotOIDs, "."+o.oid)
		m.fields = append(m.fields, o.f)
	}
	return m
}

// next returns the index of the first object after oid, or -1.
func (m *mib) next(oid string) int {
	i := sort.Search(len(m.oids), func(i int) bool { return snmp.CompareOID(m.oids[i], oid) > 0 })
	if i == len(m.oids) {
		return -1
	}
	return i
}

// Serve answers SNMP requests for device on conn until ctx ends (then it
// returns nil) or conn fails. Requests with another community, or SNMPv3,
// are dropped as a real agent drops them.
func (a *Agent) Serve(ctx context.Context, conn net.PacketConn, device, community string) error {
	if a.store.Profile(device) == nil {
		return fmt.Errorf("simulated SNMP agent: no device %q", device)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	log := a.log.With("device", device, "addr", conn.LocalAddr().String())
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, MaxOids: math.MaxInt32}
	var m *mib
	buf := make([]byte, 65535)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("simulated SNMP agent %q: read: %w", device, err)
		}
		out, ok, err := a.handle(dec, &m, device, community, buf[:n])
		if err != nil {
			log.Debug("request dropped", "from", from.String(), "err", err)
		}
		if !ok {
			continue
		}
		if _, err := conn.WriteTo(out, from); err != nil && ctx.Err() == nil {
			log.Debug("write answer", "to", from.String(), "err", err)
		}
	}
}

// answer builds the response to one request.
func (a *Agent) answer(device string, m *mib, req *gosnmp.SnmpPacket) *gosnmp.SnmpPacket {
	resp := &gosnmp.SnmpPacket{
		Version:   req.Version,
		Community: req.Community,
		PDUType:   gosnmp.GetResponse,
		RequestID: req.RequestID,
	}
	v1 := req.Version == gosnmp.Version1
	vars := make([]gosnmp.SnmpPDU, 0, len(req.Variables))
	// v1 reports a missing object for the whole PDU, naming its index.
	fail := func(i int) *gosnmp.SnmpPacket {
		resp.Error, resp.ErrorIndex = gosnmp.NoSuchName, uint8(min(i+1, 255))
		resp.Variables = nullVars(req.Variables)
		return resp
	}
	switch req.PDUType {
	case gosnmp.GetRequest:
		for i, v := range req.Variables {
			k, ok := m.byOID[trimDot(v.Name)]
			if !ok {
				if v1 {
					return fail(i)
				}
				vars = append(vars, gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.NoSuchObject})
				continue
			}
			vars = append(vars, a.value(device, m, k))
		}
	case gosnmp.GetNextRequest:
		for i, v := range req.Variables {
			pdu := a.nextVar(device, m, v.Name)
			if pdu.Type == gosnmp.EndOfMibView && v1 {
				return fail(i)
			}
			vars = append(vars, pdu)
		}
	case gosnmp.GetBulkRequest:
		if v1 {
			resp.Error = gosnmp.GenErr
			resp.Variables = nullVars(req.Variables)
			return resp
		}
		nonRep := min(int(req.NonRepeaters), len(req.Variables))
		for _, v := range req.Variables[:nonRep] {
			vars = append(vars, a.nextVar(device, m, v.Name))
		}
		rep := req.Variables[nonRep:]
		cursor := make([]string, len(rep))
		for i, v := range rep {
			cursor[i] = v.Name
		}
		for r := 0; r < int(req.MaxRepetitions) && len(rep) > 0; r++ {
			if len(vars)+len(rep) > maxBulkVarbinds {
				break
			}
			allEnd := true
			for i := range rep {
				pdu := a.nextVar(device, m, cursor[i])
				if pdu.Type != gosnmp.EndOfMibView {
					allEnd = false
					cursor[i] = pdu.Name
				}
				vars = append(vars, pdu)
			}
			if allEnd {
				break
			}
		}
	default:
		resp.Error = gosnmp.GenErr
		resp.Variables = nullVars(req.Variables)
		return resp
	}
	resp.Variables = vars
	return resp
}

func (a *Agent) nextVar(device string, m *mib, name string) gosnmp.SnmpPDU {
	k := m.next(trimDot(name))
	if k < 0 {
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.EndOfMibView}
	}
	return a.value(device, m, k)
}

func nullVars(in []gosnmp.SnmpPDU) []gosnmp.SnmpPDU {
	out := make([]gosnmp.SnmpPDU, len(in))
	for i, v := range in {
		out[i] = gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.Null}
	}
	return out
}

// value encodes object k's current value with its profile type.
func (a *Agent) value(device string, m *mib, k int) gosnmp.SnmpPDU {
	f := m.fields[k]
	if f == nil {
		return m.fixed[k]
	}
	pdu := gosnmp.SnmpPDU{Name: m.dotOIDs[k]}
	if f.Type == "octetstring" {
		s, ok := a.store.Text(device, f.Name)
		if !ok {
			raw, ok := a.store.Raw(device, f.Name)
			if !ok {
				pdu.Type = gosnmp.NoSuchInstance
				return pdu
			}
			s = strconv.FormatFloat(raw, 'f', -1, 64)
		}
		pdu.Type, pdu.Value = gosnmp.OctetString, []byte(s)
		return pdu
	}
	raw, ok := a.store.Raw(device, f.Name)
	if !ok {
		pdu.Type = gosnmp.NoSuchInstance
		return pdu
	}
	raw = math.Round(raw)
	switch f.Type {
	case "integer":
		pdu.Type, pdu.Value = gosnmp.Integer, int(clamp(raw, math.MinInt32, math.MaxInt32))
	case "gauge32":
		pdu.Type, pdu.Value = gosnmp.Gauge32, uint32(clamp(raw, 0, math.MaxUint32))
	case "counter32":
		pdu.Type, pdu.Value = gosnmp.Counter32, uint32(clamp(raw, 0, math.MaxUint32))
	case "timeticks":
		pdu.Type, pdu.Value = gosnmp.TimeTicks, uint32(clamp(raw, 0, math.MaxUint32))
	case "counter64":
		pdu.Type, pdu.Value = gosnmp.Counter64, uint64(clamp(raw, 0, math.MaxUint64))
	default:
		pdu.Type = gosnmp.NoSuchInstance
	}
	return pdu
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// handle answers one request datagram; ok is false when it is dropped.
func (a *Agent) handle(dec *gosnmp.GoSNMP, m **mib, device, community string, in []byte) (out []byte, ok bool, err error) {
	req, err := dec.SnmpDecodePacket(in)
	if err != nil {
		return nil, false, fmt.Errorf("undecodable request: %w", err)
	}
	if req.Version == gosnmp.Version3 || req.Community != community {
		return nil, false, nil
	}
	if p := a.store.Profile(device); *m == nil || (*m).prof != p {
		if p == nil {
			return nil, false, nil
		}
		*m = buildMIB(p, device, a.SysObjectID(device, p))
	}
	out, err = a.answer(device, *m, req).MarshalMsg()
	if err != nil {
		return nil, false, fmt.Errorf("encode answer: %w", err)
	}
	return out, true, nil
}

func trimDot(oid string) string { return strings.TrimPrefix(oid, ".") }
