package influx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Backoff bounds of a failing InfluxDB.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// Writer drains the spool into InfluxDB: a durable pull consumer that
// fetches up to BatchSize bytes of spool messages (or what arrived within
// FlushInterval), writes their lines as one gzip-compressed request and acknowledges them only
// after InfluxDB accepted it. One Writer per spool consumer; Start
// launches its loops and Stop ends them.
type Writer struct {
	cfg      Config
	log      *slog.Logger
	m        *Metrics
	js       jetstream.JetStream
	client   influxdb2.Client
	writeURL string
	unit     int64 // nanoseconds per unit of the written timestamps
	http     *http.Transport

	stream jetstream.Stream
	cons   jetstream.Consumer
	cur    *batch // the batch being written (run goroutine only)

	limits   limitDrops // what the stream's limits dropped (drops.go)
	dropLog  time.Time  // monitor goroutine only
	dropWait uint64     // drops counted since the last log line

	mu                  sync.Mutex
	rejWindow           time.Time
	rejShown, rejHidden int

	stopFetch, stopWrite context.CancelFunc
	done                 sync.WaitGroup
}

// NewWriter checks cfg and prepares the InfluxDB client; it does no
// network I/O. cfg should have passed Validate.
func NewWriter(nc *nats.Conn, cfg Config, log *slog.Logger, m *Metrics) (*Writer, error) {
	if m == nil {
		m = NewMetrics(nil)
	}
	unit, err := precisionUnit(cfg.Precision)
	if err != nil {
		return nil, fmt.Errorf("influx writer: %w", err)
	}
	if cfg.BatchSize <= 0 || cfg.FlushInterval <= 0 || cfg.Timeout <= 0 {
		return nil, fmt.Errorf("influx writer: batch_size, flush_interval and timeout must be positive")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("influx writer: jetstream: %w", err)
	}
	opts := influxdb2.DefaultOptions().
		SetUseGZip(false). // gzipTransport compresses, cheaper
		SetPrecision(unit).
		SetHTTPRequestTimeout(uint((cfg.Timeout + time.Second - 1) / time.Second)).
		SetLogLevel(0)
	if cfg.TLSCA != "" || cfg.InsecureSkipVerify {
		tc := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // the user's explicit choice
		if cfg.TLSCA != "" {
			pem, err := os.ReadFile(cfg.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("influx writer: tls_ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("influx writer: tls_ca %s: no PEM certificate found", cfg.TLSCA)
			}
			tc.RootCAs = pool
		}
		opts.SetTLSConfig(tc)
	}
	// A dedicated transport: keep-alive connections to one host.
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     opts.TLSConfig(),
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	var rt http.RoundTripper = transport
	if !loopback(cfg.URL) {
		rt = &gzipTransport{base: transport}
	}
	opts.SetHTTPClient(&http.Client{Timeout: cfg.Timeout, Transport: rt})
	client := influxdb2.NewClientWithOptions(cfg.URL, string(cfg.Token), opts)
	writeURL, err := writeURL(client.HTTPService().ServerAPIURL(), cfg)
	if err != nil {
		return nil, fmt.Errorf("influx writer: url: %w", err)
	}
	w := &Writer{
		cfg:      cfg,
		log:      log.With("influx", cfg.URL, "bucket", cfg.Bucket),
		m:        m,
		js:       js,
		client:   client,
		writeURL: writeURL,
		unit:     int64(unit),
		http:     transport,
	}
	return w, nil
}

// writeURL is the v2 write endpoint under apiURL (the client's
// .../api/v2/) for cfg's org, bucket and precision, as the client's own
// write API builds it.
func writeURL(apiURL string, cfg Config) (string, error) {
	u, err := url.Parse(apiURL)
	if err != nil {
		return "", err
	}
	u = u.JoinPath("write")
	u.RawQuery = url.Values{"org": {cfg.Org}, "bucket": {cfg.Bucket}, "precision": {cfg.Precision}}.Encode()
	return u.String(), nil
}

// post sends body to InfluxDB's write endpoint as it is, its parts one
// after another: the client's WriteRecord takes a string, a copy of every
// batch (megabytes at a flush interval of a few hundred devices). The
// length is told, so the request is not chunked and InfluxDB reads the
// body into a buffer of its size.
func (w *Writer) post(ctx context.Context, body net.Buffers) error {
	n := 0
	for _, b := range body {
		n += len(b)
	}
	r := append(net.Buffers(nil), body...) // reading consumes it
	herr := w.client.HTTPService().DoPostRequest(ctx, w.writeURL, &r,
		func(req *http.Request) { req.ContentLength = int64(n) },
		func(r *http.Response) error { return r.Body.Close() })
	if herr != nil {
		return herr
	}
	return nil
}

// ConsumerConfig is the JetStream configuration of the writer's durable
// consumer.
func ConsumerConfig(cfg Config) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       cfg.Spool.Durable,
		Description:   "roomwatch InfluxDB writer",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.Spool.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 4 * batchMessages(cfg.BatchSize),
	}
}

// Start creates or updates the spool stream and the durable consumer
// (under ctx) and launches the write and monitor loops, which run until
// Stop.
func (w *Writer) Start(ctx context.Context) error {
	st, err := EnsureStream(ctx, w.js, w.cfg.Spool)
	if err != nil {
		return err
	}
	cons, err := st.CreateOrUpdateConsumer(ctx, ConsumerConfig(w.cfg))
	if err != nil {
		return fmt.Errorf("influx writer: consumer %s: %w", w.cfg.Spool.Durable, err)
	}
	si, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("influx writer: stream %s: info: %w", w.cfg.Spool.Stream, err)
	}
	w.stream, w.cons = st, cons
	w.limits.reset(si)
	w.m.maxBytes.Set(float64(si.Config.MaxBytes))
	w.observe(si, time.Now())

	fetchCtx, stopFetch := context.WithCancel(context.Background())
	writeCtx, stopWrite := context.WithCancel(context.Background())
	w.stopFetch, w.stopWrite = stopFetch, stopWrite
	w.done.Add(2)
	go w.run(fetchCtx, writeCtx)
	go w.monitor(fetchCtx)
	return nil
}

// stopGrace is how long Stop lets the batch being written finish.
const stopGrace = 5 * time.Second

// Stop stops fetching, lets the batch being written finish for up to 5 s
// (InfluxDB up: it is written and acknowledged), then abandons what is
// left and hands it back to the spool (nak) for the next start: nothing
// is lost either way. It waits for the loops and closes the client.
func (w *Writer) Stop() {
	if w.stopFetch != nil {
		w.stopFetch()
		t := time.AfterFunc(stopGrace, w.stopWrite)
		w.done.Wait()
		t.Stop()
		w.stopWrite()
	}
	w.client.Close()
	w.http.CloseIdleConnections()
}

// pipelineDepth is how many batches are in hand: one being written, the
// others fetched meanwhile.
const pipelineDepth = 2

// batch is a fetched, checked batch.
type batch struct {
	items   []item
	touched time.Time // fetched or last told "in progress"
}

// keepAlive tells the server the batch is still being worked on when a
// third of ack_wait has passed, so it is not redelivered meanwhile.
func (w *Writer) keepAlive(b *batch) {
	if b == nil || time.Since(b.touched) < w.cfg.Spool.AckWait/3 {
		return
	}
	b.touched = time.Now()
	for _, it := range b.items {
		if !it.done {
			_ = it.msg.InProgress()
		}
	}
}

// run is the write loop. A fetch goroutine fetches the next batch while
// this one writes the current one, so a backlog drains with InfluxDB busy
// all the time.
func (w *Writer) run(fetchCtx, ctx context.Context) {
	defer w.done.Done()
	ready := make(chan *batch)
	free := make(chan *batch, pipelineDepth)
	for range pipelineDepth {
		free <- &batch{}
	}
	go w.fetchLoop(fetchCtx, free, ready)
	for b := range ready {
		w.cur = b
		if err := w.writeItems(ctx, b.items); err != nil {
			w.nakRest(b)
			for b := range ready {
				w.nakRest(b)
			}
			return
		}
		free <- b
	}
}

// nakRest hands the unwritten messages of b back to the spool.
func (w *Writer) nakRest(b *batch) {
	for _, it := range b.items {
		if !it.done {
			_ = it.msg.Nak()
		}
	}
	w.limits.release(b.items)
}

// fetchLoop fetches into the free batches and hands them to ready until
// ctx ends; then it closes ready.
//
// It pulls once per FlushInterval rather than keeping a pull request
// waiting on the server: a waiting request has every spool message
// delivered the moment it is stored, each delivery waking the consumer,
// both ends of the connection and this loop, and rewriting the
// consumer's state file (with fsync) about once a second. A pull that
// comes back at least half full is followed at once by the next, so a
// backlog drains as fast as InfluxDB takes it.
func (w *Writer) fetchLoop(ctx context.Context, free <-chan *batch, ready chan<- *batch) {
	defer close(ready)
	var lastErr, lastPull time.Time
	full := true // start with a pull: the spool may hold a backlog
	touch := time.NewTicker(w.cfg.Spool.AckWait / 3)
	defer touch.Stop()
	for {
		var b *batch
		select {
		case <-ctx.Done():
			return
		case b = <-free:
		}
		for {
			if !full && !sleep(ctx, time.Until(lastPull.Add(w.cfg.FlushInterval))) {
				return
			}
			if ctx.Err() != nil {
				return
			}
			lastPull = time.Now()
			var err error
			if b.items, full, err = w.pull(b.items[:0]); err != nil {
				if time.Since(lastErr) > time.Minute {
					lastErr = time.Now()
					w.log.Error("influx writer: fetch from spool", "err", err)
				}
				full = false
				sleep(ctx, time.Second)
				continue
			}
			if len(b.items) == 0 {
				continue
			}
			b.touched = time.Now()
			b.items = w.check(b.items)
			if len(b.items) > 0 {
				break
			}
		}
		// Wait for the writer, keeping the batch ours meanwhile.
		for sent := false; !sent; {
			select {
			case ready <- b:
				sent = true
			case <-touch.C:
				w.keepAlive(b)
			case <-ctx.Done():
				w.nakRest(b)
				return
			}
		}
	}
}

// pullWait is how long one pull waits on the server for a batch to fill
// before it returns what the spool holds.
const pullWait = 200 * time.Millisecond

// pull fetches the spool messages waiting now, up to BatchSize, appends
// them to items and reports whether the batch came back at least half
// full (more may be waiting).
func (w *Writer) pull(items []item) (_ []item, full bool, err error) {
	// Fetch, not FetchBytes: FetchBytes makes a channel of a million
	// entries (16 MB) per call. Not under a context: the pull ends when
	// the server says it expired, after the last message it sent, so no
	// message is delivered to a pull the client has already given up.
	msgs, maxBytes := batchMessages(w.cfg.BatchSize), fetchBytes(w.cfg.BatchSize)
	fb, err := w.cons.Fetch(msgs, jetstream.FetchMaxBytes(maxBytes),
		jetstream.FetchMaxWait(min(pullWait, w.cfg.FlushInterval)))
	if err != nil {
		return items, false, err
	}
	size := 0
	for msg := range fb.Messages() {
		it := item{msg: msg}
		if meta, err := msg.Metadata(); err == nil {
			it.seq = meta.Sequence.Stream
			w.limits.hold(it.seq)
		}
		size += len(msg.Data())
		items = append(items, it)
	}
	return items, len(items) >= msgs || size >= maxBytes/2, nil
}

// fetchBytes is how much one fetch asks for: batchSize, and never less
// than two of the largest messages NATS carries by default, so that a
// full spool message always fits.
func fetchBytes(batchSize yamlconf.Size) int { return max(int(batchSize), 2<<20) }

// batchMessages is the most spool messages one fetch asks for: one per
// KiB of the batch size, as a message holds at least one sample set.
func batchMessages(b yamlconf.Size) int { return max(1, int(b>>10)) }

// item is one spool message of a batch.
type item struct {
	msg   jetstream.Msg
	seq   uint64 // stream sequence
	data  []byte // its lines, each ending in '\n', timestamps in the writer's precision
	lines int
	sets  int
	done  bool
}

// check takes the lines of the fetched items' messages as they are when
// the spool wrote them in the writer's precision (the spool's default),
// and rewrites them otherwise (a spool written before a change of
// precision). A message of another format is dropped: the items returned
// are those kept.
func (w *Writer) check(items []item) []item {
	kept := items[:0]
	for _, it := range items {
		msg := it.msg
		h := msg.Headers()
		f := h.Get(HeaderFormat)
		unit, ok := LineUnit(f)
		if !ok {
			w.log.Error("influx writer: spool message of an unknown format, dropped",
				"subject", msg.Subject(), "format", f, "bytes", len(msg.Data()))
			w.m.drops.add(DropUndecodable, 1)
			if msg.Term() == nil {
				w.limits.acknowledged(1) // a term removes it like an ack
			}
			w.limits.release([]item{it})
			continue
		}
		it.data = msg.Data()
		if n := len(it.data); int64(unit) != w.unit || (n > 0 && it.data[n-1] != '\n') {
			it.data = appendLines(nil, it.data, int64(unit), w.unit)
		}
		it.lines = bytes.Count(it.data, []byte{'\n'})
		it.sets = msgSets(h)
		kept = append(kept, it)
	}
	return kept
}

// appendLines appends the line protocol data (timestamps in units of
// from nanoseconds) to b with every line's timestamp in units of to
// nanoseconds (rounded down, as time.Time's UnixMilli does) and every
// line ending in '\n'. A line whose last field is not a timestamp is
// appended unchanged, for InfluxDB to reject and the writer to report.
func appendLines(b, data []byte, from, to int64) []byte {
	if from == to {
		b = append(b, data...)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			b = append(b, '\n')
		}
		return b
	}
	for len(data) > 0 {
		line := data
		if n := bytes.IndexByte(data, '\n'); n >= 0 {
			line, data = data[:n], data[n+1:]
		} else {
			data = nil
		}
		sp := bytes.LastIndexByte(line, ' ')
		ts, ok := parseInt(line[sp+1:])
		if sp < 0 || !ok {
			b = append(append(b, line...), '\n')
			continue
		}
		var q int64
		if to >= from {
			q = floorDiv(ts, to/from)
		} else {
			q = ts * (from / to)
		}
		b = strconv.AppendInt(append(b, line[:sp+1]...), q, 10)
		b = append(b, '\n')
	}
	return b
}

// floorDiv is a/b rounded down.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// parseInt parses a decimal int64 without allocating.
func parseInt(s []byte) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n < 0 { // overflow
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// errRejected marks a write InfluxDB refused as malformed.
type errRejected struct{ err error }

func (e *errRejected) Error() string { return e.err.Error() }
func (e *errRejected) Unwrap() error { return e.err }

// writeItems writes the lines of items (contiguous in buf) and acks them.
// A rejected write is split in halves until the bad lines are isolated.
// It returns an error only when ctx ends.
func (w *Writer) writeItems(ctx context.Context, items []item) error {
	body := make(net.Buffers, len(items))
	for i := range items {
		body[i] = items[i].data
	}
	err := w.writeRetry(ctx, body, len(items))
	var rej *errRejected
	switch {
	case err == nil:
		lines := 0
		for i := range items {
			lines += items[i].lines
		}
		w.commit(items, lines)
		return nil
	case !errors.As(err, &rej):
		return err
	case len(items) > 1:
		half := len(items) / 2
		if err := w.writeItems(ctx, items[:half]); err != nil {
			return err
		}
		return w.writeItems(ctx, items[half:])
	}
	// One message rejected as a whole: isolate its bad lines.
	written, err := w.splitRejected(ctx, items[0].data, items[0].msg.Subject(), rej)
	if err != nil {
		return err
	}
	w.commit(items, written)
	return nil
}

// commit marks items done, acks them and counts their sample sets and
// the lines InfluxDB accepted as written.
func (w *Writer) commit(items []item, lines int) {
	sets := 0
	for i := range items {
		sets += items[i].sets
		items[i].done = true
	}
	w.ack(items)
	w.m.written.Add(float64(sets))
	w.m.writtenLines.Add(float64(lines))
}

// writeSplit writes body (whole lines of one message) and returns how
// many lines InfluxDB accepted; a rejected body goes to splitRejected.
// It returns an error only when ctx ends.
func (w *Writer) writeSplit(ctx context.Context, body []byte, subject string) (int, error) {
	err := w.writeRetry(ctx, net.Buffers{body}, 1)
	var rej *errRejected
	switch {
	case err == nil:
		return bytes.Count(body, []byte{'\n'}), nil
	case errors.As(err, &rej):
		return w.splitRejected(ctx, body, subject, rej)
	default:
		return 0, err
	}
}

// splitRejected isolates the bad lines of body, which InfluxDB rejected
// with rej, and returns how many lines it accepted: a single line is
// logged, counted and dropped; more are split in halves at a line break
// and each half written again (writeSplit). It returns an error only
// when ctx ends.
func (w *Writer) splitRejected(ctx context.Context, body []byte, subject string, rej *errRejected) (int, error) {
	if bytes.Count(body, []byte{'\n'}) <= 1 {
		w.m.rejected.Inc()
		w.logRejected(subject, bytes.TrimSuffix(body, []byte{'\n'}), rej)
		return 0, nil
	}
	half := len(body) / 2
	mid := half + bytes.IndexByte(body[half:], '\n') + 1
	if mid >= len(body) { // the middle is in the last line
		mid = bytes.LastIndexByte(body[:half], '\n') + 1
	}
	a, err := w.writeSplit(ctx, body[:mid], subject)
	if err != nil {
		return a, err
	}
	b, err := w.writeSplit(ctx, body[mid:], subject)
	return a + b, err
}

// logRejected logs a rejected line with its text: up to 20 a minute, then
// a count of those not shown.
func (w *Writer) logRejected(subject string, line []byte, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if time.Since(w.rejWindow) > time.Minute {
		if w.rejHidden > 0 {
			w.log.Error("influx writer: more lines rejected and dropped, not shown", "count", w.rejHidden)
		}
		w.rejWindow, w.rejShown, w.rejHidden = time.Now(), 0, 0
	}
	if w.rejShown >= 20 {
		w.rejHidden++
		return
	}
	w.rejShown++
	w.log.Error("influx writer: InfluxDB rejected a line, dropped", "subject", subject, "line", string(line), "err", err)
}

// writeRetry writes body (lines of msgs spool messages, for the log; the
// messages' own data, not a copy)
// until InfluxDB accepts it (nil), rejects it as malformed
// (*errRejected), or ctx ends (ctx.Err()). Transient failures back off
// exponentially up to maxBackoff, honoring Retry-After, and keep the
// batch's messages from being redelivered meanwhile.
func (w *Writer) writeRetry(ctx context.Context, body net.Buffers, msgs int) error {
	backoff := minBackoff
	var (
		failedAt, lastLog time.Time
		attempts          int
	)
	for {
		w.keepAlive(w.cur)
		t0 := time.Now()
		err := w.post(ctx, body)
		w.m.writeLatency.Observe(time.Since(t0).Seconds())
		if err == nil {
			if attempts > 0 {
				w.log.Info("influx writer: InfluxDB accepts writes again",
					"outage", time.Since(failedAt).Round(time.Second), "failed_attempts", attempts)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		status, retryAfter := 0, time.Duration(0)
		var herr *http2.Error
		if errors.As(err, &herr) {
			status = herr.StatusCode
			retryAfter = time.Duration(herr.RetryAfter) * time.Second
		}
		switch status {
		case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
			w.m.writeFailures.WithLabelValues("rejected").Inc()
			return &errRejected{fmt.Errorf("influx write: HTTP %d: %w", status, err)}
		}
		w.m.writeFailures.WithLabelValues("transient").Inc()
		if attempts == 0 {
			failedAt = t0
		}
		attempts++
		if attempts == 1 || time.Since(lastLog) > time.Minute {
			lastLog = time.Now()
			lvl := slog.LevelWarn
			if status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound {
				lvl = slog.LevelError // configuration: token, org or bucket
			}
			w.log.Log(ctx, lvl, "influx writer: write failed, samples stay in the spool and are retried",
				"status", status, "err", err, "attempts", attempts,
				"failing_for", time.Since(failedAt).Round(time.Second), "batch", msgs)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		if retryAfter > wait {
			wait = retryAfter
		}
		for wait > 0 { // keep the batch ours while we wait
			step := min(wait, w.cfg.Spool.AckWait/3)
			if !sleep(ctx, step) {
				return ctx.Err()
			}
			wait -= step
			w.keepAlive(w.cur)
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// ack acknowledges items: all but the last without waiting, the last
// one synchronously, so that once it returns the server has processed
// them all (acks on one connection are processed in order).
func (w *Writer) ack(items []item) {
	for _, it := range items[:len(items)-1] {
		_ = it.msg.Ack()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := items[len(items)-1].msg.DoubleAck(ctx); err != nil {
		// Unconfirmed: they come back after ack_wait and are rewritten
		// (the same points: no duplicates), and that ack releases them.
		// They stay held meanwhile: if the server did take these acks,
		// they must not be counted as dropped by the spool's limits.
		w.log.Warn("influx writer: acknowledge batch", "err", err, "batch", len(items))
		return
	}
	w.limits.acknowledged(len(items))
	w.limits.release(items) // after counting: never neither held nor acked
}

// countDrops counts and logs (at most every 10 s) what the stream's
// limits removed before InfluxDB had it, from si (read before this call).
func (w *Writer) countDrops(si *jetstream.StreamInfo) {
	n := w.limits.observe(si)
	if n == 0 {
		return
	}
	w.m.drops.add(DropSpoolFull, n)
	w.dropWait += n
	if time.Since(w.dropLog) >= 10*time.Second {
		w.log.Error("influx writer: SPOOL FULL: oldest samples dropped before InfluxDB accepted them",
			"dropped", w.dropWait, "dropped_total", w.m.drops.Of(DropSpoolFull), "max_bytes", w.cfg.Spool.MaxBytes, "max_age", w.cfg.Spool.MaxAge)
		w.dropLog, w.dropWait = time.Now(), 0
	}
}

// monitor updates depth, age and drop metrics every MonitorInterval.
func (w *Writer) monitor(ctx context.Context) {
	defer w.done.Done()
	every := w.cfg.Spool.MonitorInterval
	if every <= 0 {
		every = DefaultFlushInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
		si, err := w.stream.Info(ictx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("influx writer: spool info", "err", err)
			}
			continue
		}
		w.observe(si, time.Now())
	}
}

// observe updates the gauges from si and counts drops.
func (w *Writer) observe(si *jetstream.StreamInfo, now time.Time) {
	w.m.depthMsgs.Set(float64(si.State.Msgs))
	w.m.depthBytes.Set(float64(si.State.Bytes))
	age := 0.0
	if si.State.Msgs > 0 && !si.State.FirstTime.IsZero() {
		age = max(0, now.Sub(si.State.FirstTime).Seconds())
	}
	w.m.oldestAge.Set(age)
	w.countDrops(si)
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
