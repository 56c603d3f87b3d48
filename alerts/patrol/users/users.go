// Package users is the patrol screen's local accounts: a YAML file of
// users with bcrypt-hashed passwords and a role, written by
// `roomwatch user add` and read by the screen.
//
//	users:
//	  - name: zhangsan
//	    title: 张三
//	    role: operator
//	    hash: $2a$12$…
package users

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"
)

// Role is what a user may do.
type Role string

// Roles, from least to most.
const (
	Viewer   Role = "viewer"   // reads every page
	Operator Role = "operator" // also ticks manual items, signs, acknowledges
	Admin    Role = "admin"    // also corrects signed records (revisions) and reads the audit trail
)

// Rank orders roles; 0 is unknown.
func (r Role) Rank() int {
	switch r {
	case Viewer:
		return 1
	case Operator:
		return 2
	case Admin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.Rank() > 0 }

// Allows reports whether r may do what need requires.
func (r Role) Allows(need Role) bool { return r.Rank() >= need.Rank() && r.Valid() }

// User is one account.
type User struct {
	Name  string `yaml:"name"`
	Title string `yaml:"title,omitempty"`
	Role  Role   `yaml:"role"`
	Hash  string `yaml:"hash"`
}

// Display is the name shown on screens and signatures.
func (u *User) Display() string {
	if u.Title != "" {
		return u.Title
	}
	return u.Name
}

// File is the users file.
type File struct {
	Users []User `yaml:"users"`
}

// ErrBadLogin is returned for an unknown user or a wrong password alike.
var ErrBadLogin = errors.New("unknown user or wrong password")

// Cost is the bcrypt cost of new hashes.
var Cost = 12

// dummy is compared against when the user is unknown, so both cases take
// the same time.
var dummy, _ = bcrypt.GenerateFromPassword([]byte("roomwatch"), bcrypt.MinCost)

// Load reads a users file; a missing file is an empty one.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &File{}, nil
	}
	if err != nil {
		return nil, err
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, u := range f.Users {
		if err := CheckName(u.Name); err != nil {
			return nil, fmt.Errorf("%s: users[%d].name: %w", path, i, err)
		}
		if !u.Role.Valid() {
			return nil, fmt.Errorf("%s: users[%d].role: %q: want viewer, operator or admin", path, i, u.Role)
		}
		if _, err := bcrypt.Cost([]byte(u.Hash)); err != nil {
			return nil, fmt.Errorf("%s: users[%d].hash: not a bcrypt hash", path, i)
		}
	}
	return &f, nil
}

// CheckName rejects an empty name or one with spaces or control
// characters.
func CheckName(name string) error {
	if name == "" {
		return errors.New("empty")
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("%q: no spaces or control characters", name)
	}
	if len(name) > 64 {
		return fmt.Errorf("%q: at most 64 bytes", name)
	}
	return nil
}

// Find returns the user called name, nil if none.
func (f *File) Find(name string) *User {
	for i := range f.Users {
		if f.Users[i].Name == name {
			return &f.Users[i]
		}
	}
	return nil
}

// Authenticate checks name and password.
func (f *File) Authenticate(name, password string) (*User, error) {
	u := f.Find(name)
	if u == nil {
		_ = bcrypt.CompareHashAndPassword(dummy, []byte(password))
		return nil, ErrBadLogin
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(password)) != nil {
		return nil, ErrBadLogin
	}
	c := *u
	return &c, nil
}

// Set adds the user or replaces the one of the same name, hashing
// password.
func (f *File) Set(name, title string, role Role, password string) error {
	if err := CheckName(name); err != nil {
		return fmt.Errorf("user name %w", err)
	}
	if !role.Valid() {
		return fmt.Errorf("role %q: want viewer, operator or admin", role)
	}
	if len(password) < 8 {
		return errors.New("password: at least 8 characters")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), Cost)
	if err != nil {
		return fmt.Errorf("password: %w", err)
	}
	u := User{Name: name, Title: title, Role: role, Hash: string(h)}
	if i := slices.IndexFunc(f.Users, func(x User) bool { return x.Name == name }); i >= 0 {
		f.Users[i] = u
	} else {
		f.Users = append(f.Users, u)
	}
	return nil
}

// Save writes the file atomically with mode 0600.
func (f *File) Save(path string) error {
	data, err := yaml.Marshal(f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".users-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
