package yamlconf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ReadFile reads a file that a person names in a configuration (the
// configuration itself, a rules file, a profile, a secret): a regular
// file of at most MaxFileSize. A device, a pipe or /dev/zero named by
// mistake would block a check or a reload, or never end.
func ReadFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is %s; a configuration file is at most %s", path, Size(st.Size()), Size(MaxFileSize))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err == nil && len(data) > MaxFileSize {
		err = fmt.Errorf("%s grew past %s while read", path, Size(MaxFileSize))
	}
	return data, err
}
