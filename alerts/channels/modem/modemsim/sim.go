// Package modemsim is a simulated GSM modem for tests and demos: the AT
// command set of an SMS modem in PDU mode, served on one end of a
// pseudo-terminal pair made by socat, the other end being a stable path a
// modem channel opens like /dev/ttyUSB0.
//
// It records and decodes every PDU it is given, and can be driven: an
// incoming SMS injected (+CMTI, then AT+CMGR/AT+CMGD), the next send
// failed with +CMS ERROR n, sends answered slowly, delivery reports
// (+CDS) emitted, the cable pulled (socat stopped: the client reads EOF)
// and plugged back at the same path.
package modemsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Sim is one simulated modem.
type Sim struct {
	path  string // the client's end (a symlink socat keeps)
	end   string // the simulator's end
	dir   string
	socat string
	log   *slog.Logger

	mu      sync.Mutex
	st      state
	pdus    []PDU
	msgs    []SMS
	parts   map[string][]*PDU // parts of long messages, by recipient and reference
	changed chan struct{}     // closed and replaced at every change
	onSMS   []func(SMS)

	// the plug
	plugMu sync.Mutex // serialises Unplug, Replug, Close
	cmd    *exec.Cmd
	port   *os.File
	wmu    sync.Mutex // one answer written at a time
	done   chan struct{}
	wg     sync.WaitGroup
}

// Start serves a simulated modem whose port is path (a symlink to a pty;
// path must not exist). It needs socat.
func Start(path string, log *slog.Logger) (*Sim, error) {
	socat, err := exec.LookPath("socat")
	if err != nil {
		return nil, fmt.Errorf("modem simulator: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path, err = filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("modem simulator: %w", err)
	}
	dir, err := os.MkdirTemp("", "modemsim")
	if err != nil {
		return nil, fmt.Errorf("modem simulator: %w", err)
	}
	s := &Sim{
		path: path, end: filepath.Join(dir, "sim"), dir: dir, socat: socat,
		log: log.With("sim", "modem", "port", path), parts: map[string][]*PDU{},
		changed: make(chan struct{}), st: newState(),
	}
	if err := s.Replug(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Path is the port a modem channel opens.
func (s *Sim) Path() string { return s.path }

// Replug plugs the modem (back) in at the same path: a fresh pty, the
// modem's settings back to power-on defaults, its SIM's messages kept.
// It does nothing when the modem is plugged in.
func (s *Sim) Replug() error {
	s.plugMu.Lock()
	defer s.plugMu.Unlock()
	if s.cmd != nil {
		return nil
	}
	for _, p := range []string{s.path, s.end} {
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			_ = os.Remove(p) // left by a socat that was killed
		}
	}
	cmd := exec.Command(s.socat, "pty,raw,echo=0,link="+s.end, "pty,raw,echo=0,link="+s.path)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("modem simulator: start socat: %w", err)
	}
	stop := func(err error) error {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("modem simulator: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, errA := os.Stat(s.end)
		_, errB := os.Stat(s.path)
		if errA == nil && errB == nil {
			break
		}
		if time.Now().After(deadline) {
			return stop(fmt.Errorf("socat made no ptys in 10s: %v; %v", errA, errB))
		}
		time.Sleep(5 * time.Millisecond)
	}
	port, err := os.OpenFile(s.end, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return stop(err)
	}
	s.mu.Lock()
	s.st.powerOn()
	s.changedLocked()
	s.mu.Unlock()
	s.cmd, s.port, s.done = cmd, port, make(chan struct{})
	s.wg.Add(1)
	go s.serve(port, s.done)
	return nil
}

// Unplug pulls the modem out: socat stops, the client's port reads EOF
// and the path disappears until Replug.
func (s *Sim) Unplug() error {
	s.plugMu.Lock()
	defer s.plugMu.Unlock()
	return s.unplug()
}

func (s *Sim) unplug() error {
	if s.cmd == nil {
		return nil
	}
	close(s.done)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	werr := s.cmd.Wait()
	_ = s.port.Close()
	s.wg.Wait()
	s.cmd, s.port = nil, nil
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return fmt.Errorf("modem simulator: socat: %w", werr)
	}
	return nil
}

// Close unplugs the modem for good and removes its files.
func (s *Sim) Close() error {
	s.plugMu.Lock()
	defer s.plugMu.Unlock()
	err := s.unplug()
	_ = os.RemoveAll(s.dir)
	return err
}

// Plugged reports whether the modem is plugged in.
func (s *Sim) Plugged() bool {
	s.plugMu.Lock()
	defer s.plugMu.Unlock()
	return s.cmd != nil
}

// write sends text to the client, whole.
func (s *Sim) write(port *os.File, text string) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := port.Write([]byte(text)); err != nil && !errors.Is(err, os.ErrClosed) {
		s.log.Debug("write", "err", err)
	}
}

// unsolicited sends an unsolicited result (+CMTI, +CDS) when plugged in.
func (s *Sim) unsolicited(text string) {
	s.plugMu.Lock()
	port := s.port
	s.plugMu.Unlock()
	if port != nil {
		s.write(port, "\r\n"+text+"\r\n")
	}
}

// OnSMS calls f (from the simulator's goroutine) for every complete SMS
// received from now on.
func (s *Sim) OnSMS(f func(SMS)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onSMS = append(s.onSMS, f)
}

// changedLocked wakes the waiters of Wait; s.mu is held.
func (s *Sim) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// View is what the simulator holds, as Wait shows it.
type View struct {
	PDUs     []PDU // every PDU given to AT+CMGS
	Messages []SMS // the complete messages sent
	Stored   int   // received messages waiting on the SIM
}

// Wait waits until cond holds or ctx ends. cond is called with the
// simulator locked: it must not call the simulator.
func (s *Sim) Wait(ctx context.Context, cond func(View) bool) error {
	for {
		s.mu.Lock()
		ok := cond(View{PDUs: s.pdus, Messages: s.msgs, Stored: len(s.st.store)})
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Messages returns the complete SMS received so far.
func (s *Sim) Messages() []SMS {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMS(nil), s.msgs...)
}

// PDUs returns every PDU given to AT+CMGS so far, rejected ones included.
func (s *Sim) PDUs() []PDU {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PDU(nil), s.pdus...)
}

// FailNext makes the next sends answer +CMS ERROR with these codes, one
// code per send, without sending; a code 0 lets its send through.
func (s *Sim) FailNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.fail = append(s.st.fail, codes...)
}

// SetSendDelay makes every AT+CMGS answer only after d (a slow modem on
// a weak network): the PDU is taken and sent at once, the answer comes
// late.
func (s *Sim) SetSendDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.delay = d
}

// SetReportStatus sets the TP-ST of the delivery reports sent for parts
// that ask for one (0x00 delivered, 0x46 expired …); negative: none.
func (s *Sim) SetReportStatus(st int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.report = st
}

// SetPIN makes the SIM ask for pin (AT+CPIN?) after each power-on.
func (s *Sim) SetPIN(pin string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.pin = pin
}

// PINAttempts is how many times a PIN was entered.
func (s *Sim) PINAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.pinTries
}
