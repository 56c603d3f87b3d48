package users

import (
	"errors"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestSetSaveLoadAuthenticate(t *testing.T) {
	Cost = bcrypt.MinCost
	path := filepath.Join(t.TempDir(), "users.yaml")
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set("zhangsan", "张三", Operator, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("bad", "", "root", "correct horse"); err == nil {
		t.Error("unknown role accepted")
	}
	if err := f.Set("short", "", Viewer, "123"); err == nil {
		t.Error("short password accepted")
	}
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := g.Authenticate("zhangsan", "correct horse")
	if err != nil || u.Role != Operator || u.Display() != "张三" {
		t.Fatalf("authenticate: %+v %v", u, err)
	}
	for _, c := range [][2]string{{"zhangsan", "wrong"}, {"nobody", "correct horse"}} {
		if _, err := g.Authenticate(c[0], c[1]); !errors.Is(err, ErrBadLogin) {
			t.Errorf("%v: err %v, want ErrBadLogin", c, err)
		}
	}
	if !Admin.Allows(Operator) || Viewer.Allows(Operator) || Role("x").Allows(Viewer) {
		t.Error("role ranks wrong")
	}
}
