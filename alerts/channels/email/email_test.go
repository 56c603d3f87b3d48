package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/roomwatch/roomwatch/alerts/channels"
	"github.com/roomwatch/roomwatch/alerts/channels/channeltest"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
	"github.com/roomwatch/roomwatch/rules"
)

const (
	user     = "roomwatch"
	password = "pa55-w0rd-of-the-relay"
	title    = "【紧急】一号机房 市电中断"
	text     = "【紧急】一号机房 市电中断,UPS 转电池供电,剩余 23 分钟。\n另有 2 条告警:\n- 温度 28.4 ℃ 偏高\n- 门磁 打开\n值班人:张三 13800138000"
)

func message() *channels.Message {
	return &channels.Message{
		ID: "n-42/1", Severity: rules.Critical, Title: title, Text: text,
		To: []channels.Recipient{
			{Name: "张三", Email: "zhangsan@hospital.example"},
			{Name: "李四", Email: "lisi@hospital.example", Mobile: "13900139000"},
			{Name: "王五", Mobile: "13700137000"},
		},
	}
}

// delivered is one message the relay accepted.
type delivered struct {
	from string
	to   []string
	tls  bool
	data []byte
}

// relay is a real SMTP server (github.com/emersion/go-smtp) on loopback
// that takes PLAIN logins and keeps what it is given.
type relay struct {
	addr   string
	caFile string

	mu      sync.Mutex
	got     []delivered
	rcptErr error // answer to every RCPT, if set
}

type session struct {
	r    *relay
	conn *smtp.Conn
	d    delivered
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, u, p string) error {
		if u != user || p != password {
			return smtp.ErrAuthFailed
		}
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.d.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.rcptErr != nil {
		return s.r.rcptErr
	}
	s.d.to = append(s.d.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.d.tls = s.conn.TLSConnectionState()
	s.d.data = b
	s.r.mu.Lock()
	s.r.got = append(s.r.got, s.d)
	s.r.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.d = delivered{} }
func (s *session) Logout() error { return nil }

// startRelay runs the relay: mode starttls offers STARTTLS, tls speaks
// TLS from the start, plain offers no TLS.
func startRelay(t *testing.T, mode string) *relay {
	t.Helper()
	cert, caFile := certificate(t)
	r := &relay{caFile: caFile}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{r: r, conn: c}, nil
	}))
	s.Domain = "relay.test"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.AllowInsecureAuth = mode == TLSPlain
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	switch mode {
	case TLSStartTLS:
		s.TLSConfig = tc
	case TLSImplicit:
		l = tls.NewListener(l, tc)
	}
	r.addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(l)
	}()
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	return r
}

// certificate makes a self-signed certificate for 127.0.0.1 and writes
// it, as the relay's CA, to a PEM file.
func certificate(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "relay.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file
}

func config(r *relay, mode string) Config {
	host, port, _ := net.SplitHostPort(r.addr)
	p, _ := strconv.Atoi(port)
	return Config{Host: host, Port: p, Username: user, Password: password, From: "机房监控 <roomwatch@hospital.example>",
		TLS: mode, CAFile: r.caFile, Timeout: 10 * time.Second}
}

func newMail(t *testing.T, cfg Config) (*Mail, *channeltest.Log) {
	t.Helper()
	log, buf := channeltest.Logger()
	m, err := New("mail-test", cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return m, buf
}

// decode reads a delivered message back: its subject and body decoded.
func decode(t *testing.T, data []byte) (*mail.Message, string, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("content type %q", msg.Header.Get("Content-Type"))
	}
	body := msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	// SMTP ends the last line with CRLF: framing, not text.
	return msg, subject, strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}

func TestDeliveredOverSTARTTLSDecodesIdentical(t *testing.T) {
	for _, mode := range []string{TLSStartTLS, TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			r := startRelay(t, mode)
			m, log := newMail(t, config(r, mode))
			rc, err := m.Send(context.Background(), message())
			if err != nil {
				t.Fatal(err)
			}
			if len(r.got) != 1 {
				t.Fatalf("%d messages delivered", len(r.got))
			}
			d := r.got[0]
			if !d.tls || d.from != "roomwatch@hospital.example" || strings.Join(d.to, ",") != "zhangsan@hospital.example,lisi@hospital.example" {
				t.Errorf("envelope %+v", d)
			}
			msg, subject, body := decode(t, d.data)
			if subject != title {
				t.Errorf("subject %q", subject)
			}
			if body != text {
				t.Errorf("body\n%q\nwant\n%q", body, text)
			}
			if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 2 || to[0].Name != "张三" || to[1].Address != "lisi@hospital.example" {
				t.Errorf("to %v %v", to, err)
			}
			from, err := msg.Header.AddressList("From")
			if err != nil || from[0].Name != "机房监控" {
				t.Errorf("from %v %v", from, err)
			}
			if id := msg.Header.Get("Message-ID"); id != "<n-42-1@hospital.example>" || rc.Ref != id {
				t.Errorf("Message-ID %q, ref %q", id, rc.Ref)
			}
			channeltest.NoLeak(t, []string{password}, log.String(), rc.Answer)
		})
	}
}

func TestMandatorySTARTTLSRefusesAPlainRelay(t *testing.T) {
	r := startRelay(t, TLSPlain)
	m, log := newMail(t, config(r, TLSStartTLS))
	rc, err := m.Send(context.Background(), message())
	if err == nil {
		t.Fatal("sent without TLS")
	}
	if len(r.got) != 0 {
		t.Error("the relay got the message")
	}
	channeltest.NoLeak(t, []string{password}, err.Error(), log.String(), rc.Answer)
}

func TestPlainToALoopbackRelay(t *testing.T) {
	r := startRelay(t, TLSPlain)
	cfg := config(r, TLSPlain)
	cfg.Username, cfg.Password, cfg.CAFile = "", "", ""
	m, _ := newMail(t, cfg)
	if _, err := m.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	if len(r.got) != 1 || r.got[0].tls {
		t.Fatalf("%+v", r.got)
	}
	if _, subject, body := decode(t, r.got[0].data); subject != title || body != text {
		t.Errorf("%q %q", subject, body)
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		password string
		rcpt     error
		retry    bool
	}{
		{"wrong password", "not-the-password-1", nil, false},
		{"recipient refused", password, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, false},
		{"recipient deferred", password, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRelay(t, TLSStartTLS)
			r.rcptErr = tc.rcpt
			cfg := config(r, TLSStartTLS)
			cfg.Password = yamlconf.Secret(tc.password)
			m, log := newMail(t, cfg)
			rc, err := m.Send(context.Background(), message())
			if err == nil {
				t.Fatal("accepted")
			}
			t.Logf("%v", err)
			if rc.Retry != tc.retry || rc.Answer == "" {
				t.Errorf("receipt %+v for %v", rc, err)
			}
			channeltest.NoLeak(t, []string{tc.password, password}, err.Error(), log.String(), rc.Answer)
		})
	}
}

func TestUnreachableIsRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	m, _ := newMail(t, Config{Host: host, Port: p, From: "roomwatch@hospital.example", Timeout: 5 * time.Second})
	rc, err := m.Send(context.Background(), message())
	if err == nil || !rc.Retry {
		t.Errorf("%v %+v", err, rc)
	}
}

func TestNoAddress(t *testing.T) {
	m, _ := newMail(t, Config{Host: "mail.hospital.example", From: "roomwatch@hospital.example"})
	msg := message()
	msg.To = msg.To[2:]
	if rc, err := m.Send(context.Background(), msg); err == nil || rc.Retry {
		t.Errorf("%v %+v", err, rc)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Host: "mail.hospital.example", From: "机房监控 <roomwatch@hospital.example>", Username: "u", Password: "p"}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"good", func(*Config) {}, nil},
		{"plain on loopback", func(c *Config) { c.Host, c.TLS = "127.0.0.1", TLSPlain }, nil},
		{"plain elsewhere", func(c *Config) { c.TLS = TLSPlain }, []string{"c.tls: plain is only for a relay on the loopback"}},
		{"tls mode", func(c *Config) { c.TLS = "ssl" }, []string{`c.tls: "ssl"`}},
		{"missing", func(c *Config) { c.Host, c.From = "", "" }, []string{"c.host: missing", "c.from: missing"}},
		{"from", func(c *Config) { c.From = "roomwatch at hospital" }, []string{"c.from:"}},
		{"port", func(c *Config) { c.Port = 70000 }, []string{"c.port"}},
		{"password alone", func(c *Config) { c.Username = "" }, []string{"c.password: username and password"}},
		{"ca file", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, []string{"c.ca_file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			channeltest.Problems(t, tc.name, &c, tc.want)
		})
	}
	if c := (&Config{TLS: TLSImplicit}).withDefaults(); c.Port != DefaultTLSPort {
		t.Errorf("implicit TLS port %d", c.Port)
	}
}
