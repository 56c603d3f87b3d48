package main

import (
	"io/fs"
	"log/slog"
	"path/filepath"
	"syscall"
	"time"

	"github.com/roomwatch/roomwatch/collectors/influx"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// diskShare is the part of the store's disk (free space plus what the
// store already holds) a defaulted spool may take; JetStream itself refuses
// a stream beyond about three quarters of it.
const diskShare = 0.6

// fitSpool returns the default spool bound, want (72 hours of the
// configured devices), cut down to what the embedded server's disk can
// hold, with a warning saying how many hours that is. Only for the
// embedded server: an external server's disk is not ours to see.
func fitSpool(want yamlconf.Size, storeDir string, log *slog.Logger) yamlconf.Size {
	var st syscall.Statfs_t
	if err := syscall.Statfs(storeDir, &st); err != nil {
		return want
	}
	var held int64
	_ = filepath.WalkDir(storeDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				held += info.Size()
			}
		}
		return nil
	})
	room := yamlconf.Size(float64(int64(st.Bavail)*int64(st.Bsize)+held) * diskShare)
	if want <= room {
		return want
	}
	hours := time.Duration(float64(influx.DefaultHold) * float64(room) / float64(want)).Round(time.Minute)
	log.Warn("the disk cannot hold 72 hours of samples: spool bound cut to what fits; set influx.spool.max_bytes to choose",
		"store_dir", storeDir, "max_bytes", room.String(), "holds", hours, "wanted", want.String())
	return room
}
