package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/roomwatch/roomwatch/collectors"
)

// serialPortMissing names a Modbus RTU port that does not exist, with the
// serial ports that do, before a poll fails on it with a bare ENOENT.
func serialPortMissing(t collectors.Target) error {
	if t.Scheme != collectors.SchemeModbusRTU {
		return nil
	}
	if _, err := os.Stat(t.Port); err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var have []string
	for _, pat := range []string{"/dev/ttyUSB*", "/dev/ttyACM*", "/dev/ttyS*", "/dev/serial/by-id/*"} {
		m, _ := filepath.Glob(pat)
		have = append(have, m...)
	}
	present := "无 / none"
	if len(have) > 0 {
		present = strings.Join(have, " ")
	}
	return fmt.Errorf("串口 %s 不存在（USB 转串口未插好或名称不对）/ serial port %s does not exist (adapter unplugged or misnamed); present: %s",
		t.Port, t.Port, present)
}

// probeHint says what a failed probe most likely means for the person at
// the keyboard, or "" when there is nothing to add.
func probeHint(t collectors.Target, err error) string {
	timeout := isTimeout(err)
	refused := errors.Is(err, syscall.ECONNREFUSED)
	switch {
	case t.Scheme == collectors.SchemeSNMP && timeout && t.Version == "3":
		return "提示：SNMP 无应答。v3 用户名、认证/加密协议或口令不对时，代理常常不回答；请核对 user、auth/authpass、priv/privpass，以及 UDP 161 是否可达。\n" +
			"hint: no SNMP answer. Agents often stay silent on a wrong v3 user, auth/priv protocol or passphrase; check user, auth/authpass, priv/privpass, and that UDP 161 is reachable."
	case t.Scheme == collectors.SchemeSNMP && timeout:
		return "提示：SNMP 无应答。团体名（community）错误时代理不回答；请核对 community= 和 version=（1 或 2c），以及 UDP 161 是否可达。\n" +
			"hint: no SNMP answer. An agent does not answer a wrong community; check community= and version= (1 or 2c), and that UDP 161 is reachable."
	case t.Scheme == collectors.SchemeSNMP && t.Version == "3" && strings.Contains(strings.ToLower(err.Error()), "authentic"):
		return "提示：SNMPv3 认证失败，请核对 auth/authpass。\nhint: SNMPv3 authentication failed; check auth and authpass."
	case t.Scheme == collectors.SchemeNUT && refused:
		return "提示：upsd 未在该地址监听；NUT 默认只监听本机，请在 upsd.conf 中加 LISTEN 并重启 upsd。\n" +
			"hint: upsd does not listen there; by default NUT listens on localhost only: add LISTEN to upsd.conf and restart upsd."
	case t.Scheme == collectors.SchemeModbusTCP && timeout:
		return "提示：Modbus TCP 无应答：请核对地址、端口和 unit=（网关后的从站地址）。\n" +
			"hint: no Modbus TCP answer: check the address, port and unit= (the slave address behind a gateway)."
	case t.Scheme == collectors.SchemeModbusRTU && timeout:
		return "提示：串口无应答：请核对 baud=、parity=、unit= 和 A/B 接线。\n" +
			"hint: no answer on the serial line: check baud=, parity=, unit= and the A/B wiring."
	}
	return ""
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return strings.Contains(strings.ToLower(err.Error()), "timeout")
}

// noneGood reports whether a poll that answered gave no good value: the
// profile does not fit the device.
func noneGood(s *collectors.SampleSet) bool {
	for _, v := range s.Values {
		if v.Quality == collectors.Good {
			return false
		}
	}
	return true
}

// oneURL removes the repeats of the device URL from an error text (the
// poller names the device, and the device is named by its URL).
func oneURL(msg, url string) string {
	msg = strings.ReplaceAll(msg, fmt.Sprintf("device %q (%s)", url, url), url)
	return strings.ReplaceAll(msg, fmt.Sprintf("device %q", url), url)
}
