package api

// HostMetrics is what the machine as a whole is doing, from the daemon's
// periodic sample: the line PM2 7 prints under its process table.
type HostMetrics struct {
	At   int64 `json:"at"` // ms since epoch of the sample
	CPUs int   `json:"cpus"`
	// Rates is false until the daemon has sampled twice: CPU and the disk
	// figures are rates between two samples.
	Rates bool    `json:"rates"`
	CPU   float64 `json:"cpu"` // busy, percent of all CPUs (0-100)
	// Memory in bytes; in use is total minus available, as PM2 counts it.
	MemTotal       int64      `json:"mem_total"`
	MemAvailable   int64      `json:"mem_available"`
	MemUsedPercent float64    `json:"mem_used_percent"`
	Load           [3]float64 `json:"load"`
	DiskRead       float64    `json:"disk_read"`  // bytes/s
	DiskWrite      float64    `json:"disk_write"` // bytes/s
}

// StatusResponse is the process list with the host's figures: what ls,
// monit and the dashboard show, in one request.
type StatusResponse struct {
	Host      HostMetrics `json:"host"`
	Processes []Process   `json:"processes"`
}

// WebRequest starts, moves or stops the dashboard's TCP listener (tend web).
type WebRequest struct {
	// Host and Port to listen on; defaults 127.0.0.1 and 9615 (PM2's web
	// port).
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
	// MetricsPublic serves /metrics without the token.
	MetricsPublic bool `json:"metrics_public,omitempty"`
	// RotateToken makes a new token; the old one stops working at once.
	RotateToken bool `json:"rotate_token,omitempty"`
	// Stop closes the listener.
	Stop bool `json:"stop,omitempty"`
}

// WebResponse says where the dashboard is served and with which token.
// The token only ever travels over the unix socket.
type WebResponse struct {
	Serving       bool   `json:"serving"`
	Addr          string `json:"addr,omitempty"` // host:port
	URL           string `json:"url,omitempty"`
	Token         string `json:"token,omitempty"`
	TokenFile     string `json:"token_file,omitempty"`
	MetricsPublic bool   `json:"metrics_public,omitempty"`
}

// Dashboard defaults.
const (
	DefaultWebHost = "127.0.0.1"
	DefaultWebPort = 9615
)
