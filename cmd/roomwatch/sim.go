package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"

	"github.com/roomwatch/roomwatch/alerts/channels/modem/modemsim"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/collectors/sim"
	"github.com/roomwatch/roomwatch/collectors/sim/modbussim"
	"github.com/roomwatch/roomwatch/collectors/sim/snmpsim"
)

// simDevice is one device to simulate.
type simDevice struct {
	ID      string
	Profile *profiles.Profile
	Invert  []string
}

// simulators serves simulated devices: an SNMP agent socket or a Modbus
// TCP listener per device, all fed by one sim.Store.
type simulators struct {
	Store  *sim.Store
	mb     *modbussim.Simulator
	agent  *snmpsim.Agent
	cancel context.CancelFunc
	wg     sync.WaitGroup
	conns  []net.PacketConn
}

// startSimulators serves devs on host (loopback by default) on free ports
// and returns the device URL of each, by ID.
func startSimulators(devs []simDevice, host string, log *slog.Logger) (*simulators, map[string]string, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &simulators{Store: sim.NewStore(), cancel: cancel}
	s.mb = modbussim.NewSimulator(s.Store, log.With("sim", "modbus"))
	s.agent = snmpsim.NewAgent(s.Store, log.With("sim", "snmp"))
	urls := map[string]string{}
	for _, d := range devs {
		if !simulated(d.Profile.Protocol) {
			s.Stop()
			return nil, nil, fmt.Errorf("simulator %s: no simulator speaks %s (profile %s); NUT's own dummy-ups driver simulates a UPS behind upsd", d.ID, d.Profile.Protocol, d.Profile.Name)
		}
		if err := s.Store.Add(d.ID, d.Profile, d.Invert...); err != nil {
			s.Stop()
			return nil, nil, err
		}
		switch d.Profile.Protocol {
		case "snmp":
			conn, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
			if err != nil {
				s.Stop()
				return nil, nil, fmt.Errorf("simulator %s: %w", d.ID, err)
			}
			s.conns = append(s.conns, conn)
			s.wg.Add(1)
			go func(id string) {
				defer s.wg.Done()
				if err := s.agent.Serve(ctx, conn, id, "public"); err != nil && ctx.Err() == nil {
					log.Error("snmp simulator stopped", "device", id, "err", err)
				}
			}(d.ID)
			urls[d.ID] = "snmp://" + conn.LocalAddr().String() + "?version=2c&community=public"
		case "modbus":
			addr, err := s.mb.ListenTCP(net.JoinHostPort(host, "0"), map[uint8]string{1: d.ID})
			if err != nil {
				s.Stop()
				return nil, nil, fmt.Errorf("simulator %s: %w", d.ID, err)
			}
			urls[d.ID] = "modbus+tcp://" + addr + "?unit=1"
		}
	}
	return s, urls, nil
}

// Stop closes every simulator socket.
func (s *simulators) Stop() {
	s.cancel()
	for _, c := range s.conns {
		_ = c.Close()
	}
	_ = s.mb.Close()
	s.wg.Wait()
}

// runSim serves simulated devices until interrupted:
// `roomwatch sim [--config FILE] [--profile P --count N] [--control ADDR]
// [--modem PATH]`; with --count 0 and --modem, the modem alone.
func runSim(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "simulate the devices of this configuration whose url is \"sim\" (default: one device per built-in profile)")
	profile := fs.String("profile", "", "simulate only this profile")
	count := fs.Int("count", 1, "devices to simulate per profile (each on its own port); 0 with --modem: the modem alone")
	host := fs.String("listen", "127.0.0.1", "address the simulated devices listen on")
	control := fs.String("control", "127.0.0.1:9560", "HTTP control address (POST /scenario/mains-fail …)")
	dir := fs.String("profiles-dir", "", "directory of user profiles")
	modemPath := fs.String("modem", "", "also simulate a GSM modem whose port is this path (a pty made with socat) and print every SMS it is given")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var devs []simDevice
	if *cfgPath != "" {
		c, err := loadConfig(*cfgPath)
		if err != nil {
			return report(stderr, "sim", err)
		}
		devs = c.simDevices()
	} else {
		set, err := profiles.Load(*dir)
		if err != nil {
			return report(stderr, "sim", err)
		}
		for _, name := range set.Names() {
			if (*profile != "" && name != *profile) || (*profile == "" && !simulated(set[name].Protocol)) {
				continue
			}
			for i := 1; i <= *count; i++ {
				devs = append(devs, simDevice{ID: fmt.Sprintf("%s-%d", name, i), Profile: set[name]})
			}
		}
	}
	if len(devs) == 0 && *modemPath == "" {
		fmt.Fprintln(stderr, "roomwatch sim: no devices to simulate")
		return 1
	}
	sims, urls, err := startSimulators(devs, *host, log)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch sim:", err)
		return 1
	}
	defer sims.Stop()
	ln, err := net.Listen("tcp", *control)
	if err != nil {
		fmt.Fprintln(stderr, "roomwatch sim: control listener:", err)
		return 1
	}
	mux, modemLine := http.NewServeMux(), ""
	mux.Handle("/", sims.Store.Handler())
	if *modemPath != "" {
		ms, err := modemsim.Start(*modemPath, log)
		if err != nil {
			fmt.Fprintln(stderr, "roomwatch sim:", err)
			return 1
		}
		defer ms.Close()
		var mu sync.Mutex
		ms.OnSMS(func(m modemsim.SMS) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(stdout, m)
		})
		mux.Handle("/modem/", ms.Handler())
		modemLine = fmt.Sprintf("modem:   %s  (curl -X POST 'http://%%s/modem/inject?from=%%%%2B8613800138000&text=ACK+1234'; also fail?code=42, delay?d=3s, unplug, replug)\n", ms.Path())
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	if len(devs) > 0 {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DEVICE\tPROFILE\tURL")
		ids := make([]string, 0, len(urls))
		for id := range urls {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", id, sims.Store.Profile(id).Name, urls[id])
		}
		_ = tw.Flush()
		fmt.Fprintf(stdout, "control: curl -X POST http://%s/scenario/NAME  (%s)\n", ln.Addr(), strings.Join(sim.Scenarios(), ", "))
		fmt.Fprintf(stdout, "         curl -X POST 'http://%s/set?device=ID&name=temperature_c&value=30'\n", ln.Addr())
	}
	if modemLine != "" {
		fmt.Fprintf(stdout, modemLine, ln.Addr())
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if err := srv.Shutdown(context.Background()); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("control listener", "err", err)
	}
	return 0
}

// simDevices lists the configured devices whose url is "sim".
func (c *Config) simDevices() []simDevice {
	var out []simDevice
	for _, s := range c.Sites {
		for _, r := range s.Rooms {
			for _, d := range r.Devices {
				if d.URL == SimURL {
					out = append(out, simDevice{ID: c.device(s.Name, r.Name, &d).ID(), Profile: c.profiles[d.Profile], Invert: d.Invert})
				}
			}
		}
	}
	return out
}

// simulated reports whether roomwatch simulates devices of a protocol.
func simulated(protocol string) bool { return protocol == "snmp" || protocol == "modbus" }
