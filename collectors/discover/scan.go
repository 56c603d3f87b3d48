package discover

import (
	"context"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/modbus"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/snmp"
)

// Defaults of a scan.
const (
	DefaultRate        = 20 // requests per second
	DefaultConcurrency = 8
	DefaultTimeout     = time.Second
)

// Scanner probes hosts for SNMP agents and Modbus TCP units.
type Scanner struct {
	// Profiles are what SNMP agents are matched against.
	Profiles profiles.Set
	// SNMP is the target template: version, community or v3
	// credentials, and the port (Host "" or ":161"); nil skips SNMP.
	SNMP *collectors.Target
	// ModbusPort, when not 0, probes Modbus TCP on that port for the
	// unit ids in Units.
	ModbusPort int
	Units      []uint8
	// Timeout bounds each request (one SNMP detection, one Modbus read).
	Timeout time.Duration
	// Concurrency is how many hosts are probed at once.
	Concurrency int
	// Limiter paces every request; nil means DefaultRate on the wall clock.
	Limiter *Limiter
}

// Found is one device that answered.
type Found struct {
	Addr netip.Addr `json:"addr"`
	// Target is how to reach it (secrets left out when printed).
	Target collectors.Target `json:"target"`
	// SNMP: what the agent said, and the profile chosen.
	Identity *snmp.Identity `json:"identity,omitempty"`
	// Modbus: the unit ids that answered.
	Units []uint8 `json:"units,omitempty"`
}

// Protocol is snmp or modbus.
func (f *Found) Protocol() string { return f.Target.Protocol() }

// Scan probes every host and returns what answered, sorted by address
// and protocol. Only ctx's end stops it early (with ctx's error).
func (s *Scanner) Scan(ctx context.Context, hosts []netip.Addr) ([]Found, error) {
	lim := s.Limiter
	if lim == nil {
		lim = NewLimiter(DefaultRate, nil)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	workers := max(1, s.Concurrency)
	var (
		mu    sync.Mutex
		found []Found
		wg    sync.WaitGroup
	)
	jobs := make(chan netip.Addr)
	for range min(workers, len(hosts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range jobs {
				fs := s.probe(ctx, lim, timeout, a)
				mu.Lock()
				found = append(found, fs...)
				mu.Unlock()
			}
		}()
	}
feed:
	for _, a := range hosts {
		select {
		case jobs <- a:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	sort.Slice(found, func(i, j int) bool {
		if c := found[i].Addr.Compare(found[j].Addr); c != 0 {
			return c < 0
		}
		return found[i].Protocol() > found[j].Protocol()
	})
	return found, ctx.Err()
}

func (s *Scanner) probe(ctx context.Context, lim *Limiter, timeout time.Duration, a netip.Addr) []Found {
	var out []Found
	if s.SNMP != nil {
		if f, ok := s.probeSNMP(ctx, lim, timeout, a); ok {
			out = append(out, f)
		}
	}
	if s.ModbusPort != 0 {
		if f, ok := s.probeModbus(ctx, lim, timeout, a); ok {
			out = append(out, f)
		}
	}
	return out
}

func (s *Scanner) probeSNMP(ctx context.Context, lim *Limiter, timeout time.Duration, a netip.Addr) (Found, bool) {
	t := *s.SNMP
	port := "161"
	if _, p, err := net.SplitHostPort(t.Host); err == nil && p != "" {
		port = p
	}
	t.Host = net.JoinHostPort(a.String(), port)
	// No retries: a host that does not answer costs one request and one
	// timeout, and a lost datagram is found again by the next scan. Each
	// request of the detection waits for the limiter.
	id, err := snmp.DetectTarget(ctx, t, timeout, 0, s.Profiles, func(tr snmp.Transport) snmp.Transport {
		return pacedTransport{tr, lim}
	})
	if err != nil {
		return Found{}, false
	}
	return Found{Addr: a, Target: t, Identity: &id}, true
}

func (s *Scanner) probeModbus(ctx context.Context, lim *Limiter, timeout time.Duration, a netip.Addr) (Found, bool) {
	host := net.JoinHostPort(a.String(), strconv.Itoa(s.ModbusPort))
	if lim.Wait(ctx) != nil {
		return Found{}, false
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return Found{}, false
	}
	_ = c.Close()
	f := Found{Addr: a, Target: collectors.Target{Scheme: collectors.SchemeModbusTCP, Host: host}}
	for _, u := range s.Units {
		if lim.Wait(ctx) != nil {
			break
		}
		t := f.Target
		t.Unit = u
		rctx, cancel := context.WithTimeout(ctx, timeout)
		_, err := modbus.ReadRaw(rctx, t, modbus.TableHolding, 0, 1)
		cancel()
		if unitAnswers(err) {
			f.Units = append(f.Units, u)
		}
	}
	if len(f.Units) > 0 {
		f.Target.Unit = f.Units[0]
	}
	return f, true
}

// unitAnswers says whether a read's outcome shows a unit behind the
// address: an answer, or an exception from the unit itself (it refuses
// register 0 but is there). A gateway's "path unavailable" or "target
// failed to respond", and a timeout, mean no unit.
func unitAnswers(err error) bool {
	if err == nil {
		return true
	}
	code, ok := modbus.ExceptionCode(err)
	if !ok {
		return false
	}
	return code != exGatewayPathUnavailable && code != exGatewayTargetFailed
}

// Gateway exception codes (Modbus Application Protocol v1.1b3, 7).
const (
	exGatewayPathUnavailable = 0x0A
	exGatewayTargetFailed    = 0x0B
)

// pacedTransport makes every SNMP request wait for the limiter.
type pacedTransport struct {
	snmp.Transport
	lim *Limiter
}

func (p pacedTransport) Get(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error) {
	if err := p.lim.Wait(ctx); err != nil {
		return nil, err
	}
	return p.Transport.Get(ctx, oids)
}
