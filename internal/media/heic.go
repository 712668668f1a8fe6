package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// HEIC (ISO/IEC 23008-12, an ISOBMFF file) has no pure-Go decoder, so gridcase does not
// re-encode it. It reads what it needs from the boxes instead: the primary image's size (ispe,
// turned by irot) for the pixel limit, and the Exif item for the photo's own time and GPS; then
// it zeroes the bytes of every Exif and XMP item in place. Zeroing keeps every offset in the
// file valid, so the picture itself still decodes on every phone and browser that shows HEIC.

var errHEIC = errors.New("malformed HEIC")

// heicInfo is what parseHEIC found.
type heicInfo struct {
	width, height int
	exif          []byte   // the TIFF body of the Exif item, nil when none
	metadata      [][2]int // byte ranges [start, end) of Exif and XMP items, to be zeroed
}

type isoBox struct {
	typ       string
	body, end int // the content (after the header) and the end, as offsets in the file
}

// isoBoxes lists the boxes in b[start:end].
func isoBoxes(b []byte, start, end int) ([]isoBox, error) {
	var out []isoBox
	for i := start; i < end; {
		if end-i < 8 {
			return nil, errHEIC
		}
		size := uint64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		hdr := 8
		switch size {
		case 0:
			size = uint64(end - i)
		case 1:
			if end-i < 16 {
				return nil, errHEIC
			}
			size, hdr = binary.BigEndian.Uint64(b[i+8:]), 16
		}
		if size < uint64(hdr) || size > uint64(end-i) {
			return nil, errHEIC
		}
		out = append(out, isoBox{typ: typ, body: i + hdr, end: i + int(size)})
		i += int(size)
		if len(out) > 4096 {
			return nil, errHEIC
		}
	}
	return out, nil
}

func findBox(boxes []isoBox, typ string) (isoBox, bool) {
	for _, x := range boxes {
		if x.typ == typ {
			return x, true
		}
	}
	return isoBox{}, false
}

// cursor reads big-endian fields from a box body with bounds checks.
type cursor struct {
	b   []byte
	i   int
	err error
}

func (c *cursor) uint(n int) uint64 {
	if c.err != nil {
		return 0
	}
	if n == 0 {
		return 0
	}
	if c.i+n > len(c.b) {
		c.err = errHEIC
		return 0
	}
	var v uint64
	for _, x := range c.b[c.i : c.i+n] {
		v = v<<8 | uint64(x)
	}
	c.i += n
	return v
}

func (c *cursor) cstring() string {
	if c.err != nil {
		return ""
	}
	j := bytes.IndexByte(c.b[c.i:], 0)
	if j < 0 {
		s := string(c.b[c.i:])
		c.i = len(c.b)
		return s
	}
	s := string(c.b[c.i : c.i+j])
	c.i += j + 1
	return s
}

type heicItem struct {
	typ, contentType string
	construction     int
	extents          [][2]uint64 // offset, length (length 0: to the end)
}

// parseHEIC reads a HEIC file's primary image size and metadata items.
func parseHEIC(b []byte) (heicInfo, error) {
	top, err := isoBoxes(b, 0, len(b))
	if err != nil {
		return heicInfo{}, err
	}
	meta, ok := findBox(top, "meta")
	if !ok || meta.end-meta.body < 4 {
		return heicInfo{}, fmt.Errorf("%w: no meta box", errHEIC)
	}
	children, err := isoBoxes(b, meta.body+4, meta.end) // meta is a full box
	if err != nil {
		return heicInfo{}, err
	}
	items := map[uint64]*heicItem{}
	item := func(id uint64) *heicItem {
		if items[id] == nil {
			items[id] = &heicItem{}
		}
		return items[id]
	}
	var primary uint64
	var idat isoBox
	var props []isoBox
	assoc := map[uint64][]int{}
	for _, x := range children {
		c := &cursor{b: b[x.body:x.end]}
		switch x.typ {
		case "pitm":
			v := c.uint(1)
			c.uint(3)
			primary = c.uint(map[bool]int{true: 2, false: 4}[v == 0])
		case "iinf":
			if err := readIINF(b, x, item); err != nil {
				return heicInfo{}, err
			}
		case "iloc":
			if err := readILOC(c, item); err != nil {
				return heicInfo{}, err
			}
		case "idat":
			idat = x
		case "iprp":
			props, err = readIPRP(b, x, assoc)
			if err != nil {
				return heicInfo{}, err
			}
		}
		if c.err != nil {
			return heicInfo{}, fmt.Errorf("%w: %s box", errHEIC, x.typ)
		}
	}
	var info heicInfo
	rotated := false
	for _, idx := range assoc[primary] {
		if idx < 1 || idx > len(props) {
			continue
		}
		p := props[idx-1]
		c := &cursor{b: b[p.body:p.end]}
		switch p.typ {
		case "ispe":
			c.uint(4)
			info.width, info.height = int(c.uint(4)), int(c.uint(4))
		case "irot":
			rotated = c.uint(1)&1 == 1 // a quarter or three quarters turn
		}
		if c.err != nil {
			return heicInfo{}, fmt.Errorf("%w: %s property", errHEIC, p.typ)
		}
	}
	if primary == 0 || info.width <= 0 || info.height <= 0 {
		return heicInfo{}, fmt.Errorf("%w: no primary image size", errHEIC)
	}
	if rotated {
		info.width, info.height = info.height, info.width
	}
	for _, it := range items {
		isXMP := it.typ == "mime" && (strings.Contains(it.contentType, "xmp") || strings.Contains(it.contentType, "rdf+xml"))
		if it.typ != "Exif" && !isXMP {
			continue
		}
		var payload []byte
		for _, e := range it.extents {
			var base, limit int
			switch it.construction {
			case 0:
				base, limit = 0, len(b)
			case 1:
				if idat.end == 0 {
					return heicInfo{}, fmt.Errorf("%w: item in a missing idat", errHEIC)
				}
				base, limit = idat.body, idat.end
			default:
				return heicInfo{}, fmt.Errorf("%w: metadata stored by item reference", errHEIC)
			}
			start, length := e[0], e[1]
			if length == 0 && start <= uint64(limit-base) {
				length = uint64(limit-base) - start
			}
			if start > uint64(limit-base) || length > uint64(limit-base)-start {
				return heicInfo{}, fmt.Errorf("%w: metadata item outside the file", errHEIC)
			}
			r := [2]int{base + int(start), base + int(start+length)}
			info.metadata = append(info.metadata, r)
			payload = append(payload, b[r[0]:r[1]]...)
		}
		if it.typ == "Exif" && info.exif == nil && len(payload) >= 4 {
			off := uint64(binary.BigEndian.Uint32(payload))
			if off <= uint64(len(payload)-4) {
				body := payload[4+off:]
				info.exif = bytes.TrimPrefix(body, exifHeader)
			}
		}
	}
	return info, nil
}

func readIINF(b []byte, x isoBox, item func(uint64) *heicItem) error {
	c := &cursor{b: b[x.body:x.end]}
	v := c.uint(1)
	c.uint(3)
	n := c.uint(map[bool]int{true: 2, false: 4}[v == 0])
	if c.err != nil {
		return fmt.Errorf("%w: iinf box", errHEIC)
	}
	entries, err := isoBoxes(b, x.body+c.i, x.end)
	if err != nil {
		return err
	}
	if uint64(len(entries)) < n {
		return fmt.Errorf("%w: iinf lists %d items, holds %d", errHEIC, n, len(entries))
	}
	for _, e := range entries {
		if e.typ != "infe" {
			continue
		}
		c := &cursor{b: b[e.body:e.end]}
		v := c.uint(1)
		c.uint(3)
		if v < 2 {
			continue // version 0 and 1 entries carry no item type; images and Exif use 2 or 3
		}
		id := c.uint(map[bool]int{true: 2, false: 4}[v == 2])
		c.uint(2) // protection index
		typ := fourCC(c.uint(4))
		c.cstring() // name
		it := item(id)
		it.typ = typ
		if typ == "mime" {
			it.contentType = strings.ToLower(c.cstring())
		}
		if c.err != nil {
			return fmt.Errorf("%w: infe box", errHEIC)
		}
	}
	return nil
}

func readILOC(c *cursor, item func(uint64) *heicItem) error {
	v := c.uint(1)
	c.uint(3)
	sizes := c.uint(2)
	offSize, lenSize, baseSize, idxSize := int(sizes>>12&15), int(sizes>>8&15), int(sizes>>4&15), int(sizes&15)
	if v == 0 {
		idxSize = 0
	}
	for _, s := range []int{offSize, lenSize, baseSize, idxSize} {
		if s != 0 && s != 4 && s != 8 {
			return fmt.Errorf("%w: iloc field size %d", errHEIC, s)
		}
	}
	idSize := map[bool]int{true: 4, false: 2}[v == 2]
	n := c.uint(idSize)
	for i := uint64(0); i < n && c.err == nil; i++ {
		it := item(c.uint(idSize))
		if v == 1 || v == 2 {
			it.construction = int(c.uint(2) & 15)
		}
		c.uint(2) // data reference index
		base := c.uint(baseSize)
		extents := c.uint(2)
		for j := uint64(0); j < extents && c.err == nil; j++ {
			c.uint(idxSize)
			off, length := c.uint(offSize), c.uint(lenSize)
			it.extents = append(it.extents, [2]uint64{base + off, length})
		}
	}
	if c.err != nil {
		return fmt.Errorf("%w: iloc box", errHEIC)
	}
	return nil
}

// readIPRP returns the properties (ipco's children, indexed from 1 by ipma) and fills assoc
// with each item's property indexes.
func readIPRP(b []byte, x isoBox, assoc map[uint64][]int) ([]isoBox, error) {
	kids, err := isoBoxes(b, x.body, x.end)
	if err != nil {
		return nil, err
	}
	var props []isoBox
	if ipco, ok := findBox(kids, "ipco"); ok {
		if props, err = isoBoxes(b, ipco.body, ipco.end); err != nil {
			return nil, err
		}
	}
	for _, k := range kids {
		if k.typ != "ipma" {
			continue
		}
		c := &cursor{b: b[k.body:k.end]}
		v := c.uint(1)
		flags := c.uint(3)
		n := c.uint(4)
		for i := uint64(0); i < n && c.err == nil; i++ {
			id := c.uint(map[bool]int{true: 2, false: 4}[v < 1])
			m := c.uint(1)
			for j := uint64(0); j < m && c.err == nil; j++ {
				if flags&1 == 1 {
					assoc[id] = append(assoc[id], int(c.uint(2)&0x7FFF))
				} else {
					assoc[id] = append(assoc[id], int(c.uint(1)&0x7F))
				}
			}
		}
		if c.err != nil {
			return nil, fmt.Errorf("%w: ipma box", errHEIC)
		}
	}
	return props, nil
}

func fourCC(v uint64) string {
	return string([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// stripHEIC returns a copy of b with the metadata items' bytes zeroed.
func stripHEIC(b []byte, info heicInfo) []byte {
	out := bytes.Clone(b)
	for _, r := range info.metadata {
		clear(out[r[0]:r[1]])
	}
	return out
}
