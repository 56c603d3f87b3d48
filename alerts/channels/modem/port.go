package modem

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// bauds maps a configured line speed to its termios constant.
var bauds = map[int]uint32{
	9600: unix.B9600, 19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600,
	115200: unix.B115200, 230400: unix.B230400, 460800: unix.B460800, 921600: unix.B921600,
}

// openPort opens a serial device raw (8N1, no echo, no line editing) and
// non-blocking, so that the runtime poller serves it: Close interrupts a
// pending Read, and a vanished USB device reads as an error, not a hang.
// Input already waiting (late answers to a previous connection) is
// discarded.
func openPort(path string, baud int, rtscts bool) (*os.File, error) {
	speed, ok := bauds[baud]
	if !ok {
		return nil, fmt.Errorf("open %s: unsupported baud rate %d", path, baud)
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	fail := func(step string, err error) (*os.File, error) {
		_ = unix.Close(fd)
		return nil, &os.PathError{Op: step, Path: path, Err: err}
	}
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fail("get line settings of", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF | unix.IXANY
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CSTOPB | unix.CBAUD | unix.CRTSCTS
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL | speed
	if rtscts {
		t.Cflag |= unix.CRTSCTS
	}
	t.Ispeed, t.Ospeed = speed, speed
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fail("set line settings of", err)
	}
	// One owner per modem: a second process opening it gets EBUSY.
	_ = unix.IoctlSetInt(fd, unix.TIOCEXCL, 0)
	if err := unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIOFLUSH); err != nil {
		return fail("flush", err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// drain reads and discards what the modem still sends (answers to
// commands of a connection that was given up) until it has been quiet for
// quiet, at most for max.
func drain(f *os.File, quiet, max time.Duration) {
	end := time.Now().Add(max)
	buf := make([]byte, 256)
	for time.Now().Before(end) {
		if err := f.SetReadDeadline(time.Now().Add(quiet)); err != nil {
			return
		}
		if _, err := f.Read(buf); err != nil {
			break
		}
	}
	_ = f.SetReadDeadline(time.Time{})
}

// line is the port as the AT driver sees it. It notes whether an SMS
// PDU (which ends with Ctrl-Z) has been written, so that a connection
// lost mid-send tells "never left" from "may have left".
type line struct {
	f         *os.File
	submitted atomic.Bool
}

func (l *line) Read(p []byte) (int, error) { return l.f.Read(p) }

func (l *line) Write(p []byte) (int, error) {
	n, err := l.f.Write(p)
	for _, b := range p[:n] {
		if b == 0x1a {
			l.submitted.Store(true)
		}
	}
	return n, err
}
