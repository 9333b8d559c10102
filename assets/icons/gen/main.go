//go:build ignore

// Command gen draws Berth's app and tray icons into assets/icons: a
// container resting on a quay (a "berth") on a rounded tile whose colour and
// mark say the assistant's state. Run it from the repository root:
//
//	go run assets/icons/gen/main.go
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

// icon is one file to draw.
type icon struct {
	name string
	size int
	bg   color.RGBA
	mark func(x, y float64) bool // in unit coordinates, 0..1
}

var (
	teal   = color.RGBA{0x0f, 0x76, 0x6e, 0xff}
	green  = color.RGBA{0x16, 0xa3, 0x4a, 0xff}
	red    = color.RGBA{0xdc, 0x4a, 0x26, 0xff}
	grey   = color.RGBA{0x6b, 0x72, 0x80, 0xff}
	white  = color.RGBA{0xff, 0xff, 0xff, 0xff}
	sample = 4 // subsamples per axis, for anti-aliasing
)

func main() {
	dir := filepath.Join("assets", "icons")
	icons := []icon{
		{"app.png", 256, teal, berth},
		{"ready.png", 64, green, berth},
		{"down.png", 64, red, warning},
		{"paused.png", 64, grey, pause},
	}
	for _, ic := range icons {
		if err := write(filepath.Join(dir, ic.name), draw(ic)); err != nil {
			log.Fatal(err)
		}
	}
}

func draw(ic icon) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, ic.size, ic.size))
	n := float64(ic.size)
	for py := 0; py < ic.size; py++ {
		for px := 0; px < ic.size; px++ {
			var tile, mark int
			for sy := 0; sy < sample; sy++ {
				for sx := 0; sx < sample; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/float64(sample)) / n
					y := (float64(py) + (float64(sy)+0.5)/float64(sample)) / n
					if roundRect(x, y, 0.5, 0.5, 0.46, 0.46, 0.2) {
						tile++
						if ic.mark(x, y) {
							mark++
						}
					}
				}
			}
			total := float64(sample * sample)
			if tile == 0 {
				continue
			}
			m := float64(mark) / float64(tile)
			c := color.NRGBA{
				R: mix(ic.bg.R, white.R, m), G: mix(ic.bg.G, white.G, m), B: mix(ic.bg.B, white.B, m),
				A: uint8(math.Round(255 * float64(tile) / total)),
			}
			img.SetNRGBA(px, py, c)
		}
	}
	return img
}

func mix(a, b uint8, t float64) uint8 {
	return uint8(math.Round(float64(a)*(1-t) + float64(b)*t))
}

// roundRect reports whether (x, y) lies in the rectangle centred on (cx, cy)
// with half sizes hw, hh and corner radius r.
func roundRect(x, y, cx, cy, hw, hh, r float64) bool {
	dx := math.Max(math.Abs(x-cx)-(hw-r), 0)
	dy := math.Max(math.Abs(y-cy)-(hh-r), 0)
	return dx*dx+dy*dy <= r*r
}

// berth is a shipping container resting on a quay.
func berth(x, y float64) bool {
	box := roundRect(x, y, 0.5, 0.46, 0.22, 0.14, 0.03)
	// Ribs on the container's side, cut out of the box.
	rib := false
	for _, cx := range []float64{0.40, 0.5, 0.60} {
		if roundRect(x, y, cx, 0.46, 0.018, 0.09, 0.01) {
			rib = true
		}
	}
	quay := roundRect(x, y, 0.5, 0.68, 0.3, 0.04, 0.03)
	return (box && !rib) || quay
}

// warning is an exclamation mark: Docker is down or needs attention.
func warning(x, y float64) bool {
	return roundRect(x, y, 0.5, 0.41, 0.065, 0.2, 0.06) || roundRect(x, y, 0.5, 0.74, 0.07, 0.07, 0.07)
}

// pause is two bars: the user paused the assistant.
func pause(x, y float64) bool {
	return roundRect(x, y, 0.39, 0.5, 0.07, 0.22, 0.04) || roundRect(x, y, 0.61, 0.5, 0.07, 0.22, 0.04)
}

func write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
