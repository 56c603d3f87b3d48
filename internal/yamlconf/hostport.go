package yamlconf

import (
	"fmt"
	"net"
	"strconv"
)

// CheckHostPort checks a host:port a file gives for a listener or a peer:
// a port of 0 to 65535 (0: any free port, for a listener).
func CheckHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port (write 127.0.0.1:9550)", s)
	}
	return CheckPort(port)
}

// CheckPort checks the port of a host:port or a URL: a number 0 to 65535.
func CheckPort(port string) error {
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}
