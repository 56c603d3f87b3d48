package modem

import (
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

func TestConfigDecodesWithDefaults(t *testing.T) {
	doc := "modem:\n  port: /dev/serial/by-id/usb-Quectel-if02\n  pin: {env: MODEM_PIN_TEST}\n  delivery_reports: true\n  init: ['+CPMS=\"SM\",\"SM\",\"SM\"']\n"
	t.Setenv("MODEM_PIN_TEST", "1234")
	c := struct {
		Modem Config `yaml:"modem"`
	}{Modem: DefaultConfig()}
	f, err := yamlconf.Decode("n.yaml", []byte(doc), &c)
	if err != nil {
		t.Fatal(err)
	}
	errs := &yamlconf.Errors{File: f}
	c.Modem.Validate(errs, "modem")
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}
	m := c.Modem
	if m.Baud != 115200 || m.SendTimeout != 60*time.Second || m.CommandTimeout != 10*time.Second || m.Flow != "none" ||
		m.MaxParts != 6 || string(m.PIN) != "1234" || !m.DeliveryReports || len(m.Init) != 1 {
		t.Errorf("decoded %+v", m)
	}
	if _, err := New("sms", m, nil); err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	doc := `modem:
  port: ttyUSB0
  baud: 12345
  flow: xon
  smsc: "+86 138 abc"
  pin: "12"
  command_timeout: 0s
  send_timeout: 1s
  init: ["AT+CSCS=\"GSM\"", ""]
  max_parts: 0
`
	c := struct {
		Modem Config `yaml:"modem"`
	}{Modem: DefaultConfig()}
	f, err := yamlconf.Decode("n.yaml", []byte(doc), &c)
	if err != nil {
		t.Fatal(err)
	}
	errs := &yamlconf.Errors{File: f}
	c.Modem.Validate(errs, "modem")
	got := errs.Err().Error()
	for _, want := range []string{
		`n.yaml:2: modem.port: "ttyUSB0" is not a device path`,
		"n.yaml:3: modem.baud: 12345 is not one of",
		`n.yaml:4: modem.flow: "xon" is not none or rtscts`,
		`n.yaml:5: modem.smsc: "+86 138 abc" is not a phone number`,
		"n.yaml:6: modem.pin: must be 4 to 8 digits",
		"n.yaml:7: modem.command_timeout: must be positive",
		"n.yaml:8: modem.send_timeout: 1s is too short",
		`n.yaml:9: modem.init[0]: "AT+CSCS=\"GSM\"": write the command without the AT prefix`,
		"n.yaml:9: modem.init[1]: empty command",
		"n.yaml:10: modem.max_parts: must be between 1 and 255",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, `"12"`) {
		t.Errorf("the PIN leaks into the errors:\n%s", got)
	}
	if _, err := New("sms", c.Modem, nil); err == nil {
		t.Error("New accepted an invalid configuration")
	}
}
