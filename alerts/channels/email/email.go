// Package email sends notifications by mail through an SMTP relay, over
// STARTTLS unless told otherwise, as UTF-8 plain text.
package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/textproto"
	"os"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/roomwatch/roomwatch/alerts/channels"
)

// Mail is one configured SMTP relay.
type Mail struct {
	name   string
	cfg    Config
	domain string // of the From address, for Message-IDs
	tls    *tls.Config
	log    *slog.Logger
}

// New builds the channel from a valid config; it reads ca_file but makes
// no connection.
func New(name string, cfg Config, log *slog.Logger) (*Mail, error) {
	if err := channels.CheckConfig(name, &cfg); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m := &Mail{name: name, cfg: cfg, log: log.With("channel", name),
		tls: &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}}
	if a, err := mail.ParseAddress(cfg.From); err == nil {
		_, m.domain, _ = strings.Cut(a.Address, "@")
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("channels.%s.ca_file: %w", name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("channels.%s.ca_file: %s holds no PEM certificate", name, cfg.CAFile)
		}
		m.tls.RootCAs = pool
	}
	return m, nil
}

// Name is the configured channel's name.
func (m *Mail) Name() string { return m.name }

// Send mails msg to the recipients' addresses in one message: the title
// as subject, the text as a UTF-8 plain-text body. The receipt's Ref is
// the Message-ID, made of the notification id so that a resend is
// recognisable.
func (m *Mail) Send(ctx context.Context, msg *channels.Message) (channels.Receipt, error) {
	if len(channels.Emails(msg.To)) == 0 {
		return channels.Receipt{}, fmt.Errorf("channel %s: no recipient has an email address", m.name)
	}
	em := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	if err := em.From(m.cfg.From); err != nil {
		return channels.Receipt{}, fmt.Errorf("channel %s: from: %w", m.name, err)
	}
	added := map[string]bool{}
	for _, p := range msg.To {
		if p.Email == "" || added[p.Email] {
			continue
		}
		added[p.Email] = true
		if err := em.AddToFormat(p.Name, p.Email); err != nil {
			return channels.Receipt{}, fmt.Errorf("channel %s: recipient %s: %w", m.name, p.Name, err)
		}
	}
	subject := msg.Title
	if subject == "" {
		subject, _, _ = strings.Cut(msg.Text, "\n")
	}
	em.Subject(subject)
	em.SetDate()
	if msg.ID != "" && m.domain != "" {
		em.SetMessageIDWithValue(messageIDPart(msg.ID) + "@" + m.domain)
	} else {
		em.SetMessageID()
	}
	em.SetBodyString(gomail.TypeTextPlain, msg.Text)

	c, err := m.client()
	if err != nil {
		return channels.Receipt{}, fmt.Errorf("channel %s: %w", m.name, err)
	}
	ref := em.GetMessageID()
	if err := c.DialAndSendWithContext(ctx, em); err != nil {
		r := channels.Receipt{Answer: err.Error(), Ref: ref, Retry: retryable(err)}
		return r, fmt.Errorf("channel %s: smtp %s:%d: %w", m.name, m.cfg.Host, m.cfg.Port, err)
	}
	return channels.Receipt{Answer: "accepted by " + m.cfg.Host, Ref: ref}, nil
}

// client makes the go-mail client for one delivery.
func (m *Mail) client() (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(m.cfg.Port),
		gomail.WithTimeout(m.cfg.Timeout),
		gomail.WithTLSConfig(m.tls),
	}
	switch m.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSPlain:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if m.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(m.cfg.Username), gomail.WithPassword(string(m.cfg.Password)))
	}
	return gomail.NewClient(m.cfg.Host, opts...)
}

// retryable says whether another attempt may succeed: not after a
// permanent (5xx) SMTP reply, such as a refused login or recipient.
func retryable(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.IsTemp() || se.ErrorCode() < 500
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code < 500
	}
	return true
}

// messageIDPart keeps the characters of id allowed on the left of a
// Message-ID's @ (RFC 5322 dot-atom text, less a few).
func messageIDPart(id string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.+=", r):
			return r
		}
		return '-'
	}, id)
}

var _ channels.Channel = (*Mail)(nil)
