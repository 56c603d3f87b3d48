package rules

// condition evaluates a condition rule's expressions.
func (e *Engine) condition(in *instance, d *devEnv) result {
	c := in.cr
	ok, known := e.run(in, c.cond, &in.condMemo, d)
	switch {
	case !known:
		return resUnknown
	case ok:
		return resFire
	case c.clear == nil:
		return resClear
	}
	if cl, known := e.run(in, c.clear, &in.clearMemo, d); known && cl {
		return resClear
	}
	return resHold
}

// run evaluates p in the device's environment d: its result, and whether
// it is known (every name it reads is in the environment and it evaluates
// to a bool). m is the memo of the instance's last run of p, reused while
// the names keep their values.
func (e *Engine) run(in *instance, p *program, m *memo, d *devEnv) (bool, bool) {
	if len(m.args) != len(p.idents) {
		m.args = make([]any, len(p.idents))
	}
	same := m.valid && p.pure
	for i, id := range p.idents {
		v, ok := in.thresholdEnv, true
		if id != "threshold" || in.cr.r.Threshold == nil {
			v, ok = d.vars[id]
		}
		if !ok {
			m.valid = false
			return false, false
		}
		if same && !m.holds(i, v) {
			same = false
		}
		m.args[i] = v
	}
	if same {
		return m.out, m.isOK
	}
	m.valid = true
	m.out, m.isOK = e.eval(in, p, d)
	return m.out, m.isOK
}

// eval runs p's program in d, with threshold set to the instance's
// threshold if its rule has one.
func (e *Engine) eval(in *instance, p *program, d *devEnv) (bool, bool) {
	if in.cr.r.Threshold != nil {
		d.vars["threshold"] = in.thresholdEnv
		defer delete(d.vars, "threshold")
	}
	out, err := e.vm.Run(p.prog, d.vars)
	if err != nil {
		if !in.cr.warned {
			in.cr.warned = true
			e.log.Warn("rule condition cannot be evaluated", "rule", in.cr.r.Name, "err", err)
		}
		return false, false
	}
	b, ok := out.(bool)
	return b, ok
}
