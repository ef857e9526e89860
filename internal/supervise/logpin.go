package supervise

import "github.com/tendpm/tend/internal/logs"

// logPin is a sink that writes nothing and holds the log files of the
// process's current config open (the log table shares one descriptor per
// path) from the first run that opens them until the process is stopped,
// errored or deleted. Each run has its own sink, which its pumps close
// once the run's pipes are drained: without the pin the files would be
// closed between two runs and a restart would open them again by path,
// which fails when the file system went read-only, filled its inodes or
// lost the directory under a running app, and the app would end errored
// for a restart it asked for. With it, a restart goes on writing where
// the last run wrote, as a reload does.
type logPin struct {
	sink  *logs.Sink
	files [3]string // Out, Err, Combined
}

func pinKey(f logs.Files) [3]string { return [3]string{f.Out, f.Err, f.Combined} }

// pinLogs pins the files of cfg, which a run just opened (so this only
// takes references), and lets the files of an earlier config go.
func (p *Proc) pinLogs(cfg *cfgInfo) {
	key := pinKey(cfg.Files)
	if p.st.logPin.sink != nil && p.st.logPin.files == key {
		return
	}
	p.unpinLogs()
	if sink, err := p.newSink(cfg, cfg.Files); err == nil {
		p.st.logPin = logPin{sink: sink, files: key}
	}
}

func (p *Proc) unpinLogs() {
	if p.st.logPin.sink != nil {
		_ = p.st.logPin.sink.Close()
		p.st.logPin = logPin{}
	}
}

// unpinIdleLogs lets the files go once the process is not started: no
// run, and no restart waiting on a timer. It runs at the end of each
// operation, so a restart (a stop, then a start, in one operation) keeps
// them.
func (p *Proc) unpinIdleLogs() {
	if p.st.run == nil && p.st.timer == nil {
		p.unpinLogs()
	}
}
