package docker

// ReapWrapper lets the benchmark time exactly what Berth adds to an exec.
const ReapWrapper = reapWrapper

// SkipOneExecStart makes c deliver its helpers with cat, as for an image
// without head.
func SkipOneExecStart(c *Client) {
	c.helpers.mu.Lock()
	c.helpers.twoExecs = true
	c.helpers.mu.Unlock()
}
