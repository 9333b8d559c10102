package docker

// ReapWrapper lets the benchmark time exactly what Berth adds to an exec.
const ReapWrapper = reapWrapper
