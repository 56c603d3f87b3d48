package patrol

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// events streams the overview as server-sent events: one "overview"
// event at once and after every change (a record, an alarm, a signature),
// a comment every 20 s to keep proxies from closing the stream. The page
// updates its rows in place, so a wall screen never reloads.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	ch := s.hub.subscribe()
	defer s.hub.unsubscribe(ch)
	lang := langOf(r)
	send := func() bool {
		rooms, err := s.overviewData(r.Context(), lang)
		if err != nil {
			s.log.Warn("live overview", "err", err)
			_, err = fmt.Fprint(w, ": data unavailable\n\n")
			return err == nil && rc.Flush() == nil
		}
		data, _ := json.Marshal(map[string]any{"rooms": rooms, "at": s.now().Format("15:04:05")})
		if _, err := fmt.Fprintf(w, "event: overview\ndata: %s\n\n", data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send() {
		return
	}
	keep := time.NewTicker(20 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-ch:
			if !send() {
				return
			}
		case <-keep.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
