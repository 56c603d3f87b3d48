package rules

import (
	"testing"
	"time"
)

const unreachableRule = `
rules:
  - name: device-unreachable
    severity: major
    nodata: {polls: 3}
`

// pollAll feeds a good sample set of every inventory device at at.
func pollAll(e *Engine, inv Inventory, at time.Time) {
	for _, d := range inv.Sites[0].Rooms[0].Devices {
		e.Eval(at, set(d.Device, at, num("temperature_c", 22)))
	}
}

// A reload (Update with the same rules and inventory) long after the
// engine started must not take the devices for silent since start: no
// device-unreachable fires, nothing resolves.
func TestUpdateUnchangedRaisesNothing(t *testing.T) {
	inv := testInventory()
	e, rec := newTestEngine(t, unreachableRule)
	at := t0
	for range 20 {
		pollAll(e, inv, at)
		e.Tick(at.Add(time.Second))
		if err := e.Update(mustParse(t, unreachableRule), testInventory()); err != nil {
			t.Fatal(err)
		}
		e.Tick(at.Add(2 * time.Second))
		at = at.Add(10 * time.Second)
	}
	if ts := rec.take(); len(ts) != 0 {
		t.Fatalf("20 polls and reloads of a healthy room: %d transitions, first %+v", len(ts), ts[0])
	}
}

// A device whose configuration changed (here its poll interval) keeps its
// rule state: a firing device-unreachable stays firing through the
// reload, with nothing announced, and resolves once on its next answer.
func TestUpdateChangedDeviceKeepsState(t *testing.T) {
	inv := testInventory()
	e, rec := newTestEngine(t, unreachableRule)
	pollAll(e, inv, t0)
	for i := 1; i <= 3; i++ {
		e.Eval(t0.Add(time.Duration(i)*10*time.Second), lost(upsDev, t0.Add(time.Duration(i)*10*time.Second)))
	}
	if ts := rec.take(); len(ts) != 1 || ts[0].To != Firing || ts[0].Alert.Labels[LabelDevice] != "ups1" {
		t.Fatalf("want ups1 unreachable firing, got %+v", ts)
	}
	changed := testInventory()
	changed.Sites[0].Rooms[0].Devices[0].Interval = 5 * time.Second
	if err := e.Update(mustParse(t, unreachableRule), changed); err != nil {
		t.Fatal(err)
	}
	e.Tick(t0.Add(31 * time.Second))
	e.Eval(t0.Add(32*time.Second), lost(upsDev, t0.Add(32*time.Second)))
	if ts := rec.take(); len(ts) != 0 {
		t.Fatalf("reload of a changed, firing device: %+v", ts)
	}
	if got := stateOf(e, "device-unreachable", upsDev); got != Firing {
		t.Fatalf("after the reload ups1 is %s, want still firing", got)
	}
	e.Eval(t0.Add(40*time.Second), set(upsDev, t0.Add(40*time.Second), num("temperature_c", 22)))
	if ts := rec.take(); len(ts) != 1 || ts[0].From != Firing || ts[0].To != Inactive {
		t.Fatalf("want one resolution on ups1's answer, got %+v", ts)
	}
}
