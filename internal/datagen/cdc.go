package datagen

import (
	"context"
	"strconv"
)

// CDC event probabilities. Per batch and entity, events are drawn over a key
// space that depends on the seed only, with a per-batch state per key:
// a key not yet touched in this batch gets INSERT 35% / UPDATE 55% / DELETE
// 10% (it may exist from an earlier batch), a live key UPDATE 85% / DELETE
// 15%, a key deleted in this batch is re-INSERTed.
const (
	cdcSwapRate = 0.015 // a pair of neighbours swapped: ~3% of events out of order
	cdcDupRate  = 0.02  // an event line written twice
)

// Per-batch key states.
const (
	keyUntouched = iota
	keyLive
	keyDeleted
)

// cdcEntity describes one CDC stream.
type cdcEntity struct {
	table string
	ids   idSpace // key space: id(0, i) for i < plan.cdcKeys, the same for every batch
	width int     // number of entity columns, key included
	// row appends the entity columns after the key for version v of key i
	// (v == 0: the key's initial attributes; v != 0: an update of them).
	row func(b []byte, i, v uint64) []byte
}

func (g *gen) cdcCustomers() cdcEntity {
	p, d := g.p, g.p.ref
	uniq := newIDSpace(p.cfg.Seed, "cdc_customer_unique")
	attr := streamKey(p.cfg.Seed, 0, "cdc_customers/attributes")
	ar := newRNG()
	return cdcEntity{
		table: TableCDCCustomers, ids: newIDSpace(p.cfg.Seed, "cdc_customer"), width: 5,
		row: func(b []byte, i, v uint64) []byte {
			c, zip := moveTo(ar, &d.custPick, d, at(attr, i), v)
			markZip(g.zips, zip)
			b = appendID(b, uniq.id(0, i))
			b = append(b, ',')
			return appendLocation(b, zip, &d.cities[c])
		},
	}
}

func (g *gen) cdcSellers() cdcEntity {
	p, d := g.p, g.p.ref
	attr := streamKey(p.cfg.Seed, 0, "cdc_sellers/attributes")
	ar := newRNG()
	return cdcEntity{
		table: TableCDCSellers, ids: newIDSpace(p.cfg.Seed, "cdc_seller"), width: 4,
		row: func(b []byte, i, v uint64) []byte {
			c, zip := moveTo(ar, &d.sellPick, d, at(attr, i), v)
			markZip(g.zips, zip)
			return appendLocation(b, zip, &d.cities[c])
		},
	}
}

func (g *gen) cdcProducts() cdcEntity {
	p, d := g.p, g.p.ref
	attr := streamKey(p.cfg.Seed, 0, "cdc_products/attributes")
	ar := newRNG()
	return cdcEntity{
		table: TableCDCProducts, ids: newIDSpace(p.cfg.Seed, "cdc_product"), width: 9,
		row: func(b []byte, i, v uint64) []byte {
			ar.reseed(at(attr, i), 0)
			a := d.drawProduct(ar)
			if v != 0 { // an update changes one attribute group of the initial row
				ar.reseed(at(attr, i), v)
				switch ar.IntN(10) {
				case 0, 1, 2, 3, 4:
					k := d.categoryPick.pick(ar)
					if d.categories[k].name == a.category {
						k = (k + 1) % d.translated
					}
					a.category = d.categories[k].name
					if a.nameLen < 0 {
						a.nameLen, a.descLen, a.photos = d.nameLen.draw(ar), d.descLen.draw(ar), 1
					}
				case 5, 6, 7:
					old := a.weight
					a.weight, a.length, a.height, a.width = d.weightG.draw(ar), d.lengthCm.draw(ar), d.heightCm.draw(ar), d.widthCm.draw(ar)
					if a.weight == old {
						a.weight++
					}
				default:
					old := a.photos
					a.photos = int64(d.photos.pick(ar) + 1)
					if a.photos == old {
						a.photos = old%20 + 1
					}
				}
			}
			return appendProduct(b, &a)
		},
	}
}

// moveTo returns the location of version v of the entity whose attribute
// stream is key: version 0 is where it starts, any other version is a move to
// a different zip prefix.
func moveTo(r *rng, pick *weighted, d *refData, key, v uint64) (c int, zip int32) {
	r.reseed(key, 0)
	c = pick.pick(r)
	zip = d.pickZip(r, c)
	if v == 0 {
		return c, zip
	}
	r.reseed(key, v)
	c2 := pick.pick(r)
	zip2 := d.pickZip(r, c2)
	if zip2 == zip { // city ranges are disjoint: another city means another zip
		c2 = (c + 1) % len(d.cities)
		zip2 = d.pickZip(r, c2)
	}
	return c2, zip2
}

// writeCDC writes one CDC file. Event i has sequence_number
// Batch*10_000_000 + i and an operation_timestamp spread evenly over the
// batch's purchase window in generation order; the file order differs from
// generation order where neighbours were swapped, and some lines repeat.
func (g *gen) writeCDC(ctx context.Context, e cdcEntity) error {
	p := g.p
	f, m := g.files[e.table], p.mal[e.table]
	pt := &part{force: true}
	r := newRNG()
	r.reseed(streamKey(p.cfg.Seed, p.cfg.Batch, "cdc/"+e.table), 0)
	state := make([]uint8, p.cdcKeys)
	events := p.cdcEvents
	seqBase := int64(p.batch) * 10_000_000
	ops := [...]string{"INSERT", "UPDATE", "DELETE"}

	render := func(dst []byte, i int64) []byte {
		key := r.Int64N(p.cdcKeys)
		u := r.IntN(100)
		op := 0 // INSERT
		switch state[key] {
		case keyUntouched:
			switch {
			case u >= 90:
				op = 2
			case u >= 35:
				op = 1
			}
		case keyLive:
			op = 1
			if u >= 85 {
				op = 2
			}
		}
		state[key] = keyLive
		dst = appendID(dst[:0], e.ids.id(0, uint64(key)))
		switch op {
		case 0:
			dst = append(dst, ',')
			dst = e.row(dst, uint64(key), 0)
		case 1:
			dst = append(dst, ',')
			dst = e.row(dst, uint64(key), 1+r.Uint64()>>1)
		case 2:
			state[key] = keyDeleted
			for range e.width - 1 {
				dst = append(dst, ',')
			}
		}
		dst = append(dst, ',')
		dst = append(dst, ops[op]...)
		dst = append(dst, ',')
		dst = strconv.AppendInt(dst, seqBase+i, 10)
		dst = append(dst, ',')
		dst = appendTS(dst, p.start+i*p.span/events)
		return append(dst, '\n')
	}
	var rec uint64 // record ordinal: the malformed decision key
	emit := func(ev []byte) {
		start := len(pt.b)
		pt.b = append(pt.b, ev...)
		pt.commit(start, 0, rec, m)
		rec++
		if r.chance(cdcDupRate) {
			start = len(pt.b)
			pt.b = append(pt.b, ev...)
			pt.dups++
			pt.commit(start, 0, rec, m)
			rec++
		}
	}
	var a, b []byte
	for i := int64(0); i < events; {
		if i+1 < events && r.chance(cdcSwapRate) {
			a, b = render(a, i), render(b, i+1)
			emit(b)
			emit(a)
			i += 2
		} else {
			a = render(a, i)
			emit(a)
			i++
		}
		if err := g.flush(ctx, f, pt, false); err != nil {
			return err
		}
	}
	return g.flush(ctx, f, pt, true)
}
