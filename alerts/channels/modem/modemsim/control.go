package modemsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Handler is the simulator's HTTP control, mounted under /modem/:
//
//	POST /modem/inject?from=+8613800138000&text=ACK+1234   an SMS arrives
//	POST /modem/fail?code=42                                 the next send fails
//	POST /modem/delay?d=3s                                   sends answer late
//	POST /modem/report?status=70                             report TP-ST (-1: none)
//	POST /modem/unplug, /modem/replug                        the USB cable
//	GET  /modem/messages                                     what was sent (JSON)
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /modem/inject", func(w http.ResponseWriter, r *http.Request) {
		from, text := r.FormValue("from"), r.FormValue("text")
		if from == "" || text == "" {
			http.Error(w, "from and text are required", http.StatusBadRequest)
			return
		}
		reply(w, s.Inject(from, text))
	})
	mux.HandleFunc("POST /modem/fail", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.FormValue("code"))
		if err != nil || code <= 0 {
			http.Error(w, "code: a +CMS ERROR number is required", http.StatusBadRequest)
			return
		}
		s.FailNext(code)
		reply(w, nil)
	})
	mux.HandleFunc("POST /modem/delay", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.FormValue("d"))
		if err != nil || d < 0 {
			http.Error(w, "d: a duration such as 3s is required", http.StatusBadRequest)
			return
		}
		s.SetSendDelay(d)
		reply(w, nil)
	})
	mux.HandleFunc("POST /modem/report", func(w http.ResponseWriter, r *http.Request) {
		st, err := strconv.Atoi(r.FormValue("status"))
		if err != nil || st > 255 {
			http.Error(w, "status: a TP-ST number (0 delivered, 70 expired, -1 none) is required", http.StatusBadRequest)
			return
		}
		s.SetReportStatus(st)
		reply(w, nil)
	})
	mux.HandleFunc("POST /modem/unplug", func(w http.ResponseWriter, r *http.Request) { reply(w, s.Unplug()) })
	mux.HandleFunc("POST /modem/replug", func(w http.ResponseWriter, r *http.Request) { reply(w, s.Replug()) })
	mux.HandleFunc("GET /modem/messages", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Messages())
	})
	return mux
}

func reply(w http.ResponseWriter, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "ok")
}
