package datagen

import (
	"context"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
)

// plan holds everything derived from a Config before any row is written.
type plan struct {
	cfg   Config
	batch uint64
	ref   *refData
	specs []tableSpec
	mal   map[string]*malformer

	nOrders, nProducts, nSellers int64
	cdcEvents, cdcKeys           int64
	start, span                  int64 // purchases fall in [start, start+span), Unix seconds

	keys struct {
		order, price, sellerOf, hasReview, reviewReuse, product, seller, geo uint64
	}
	reviewThr, reuseThr uint64
	ids                 struct{ order, customer, uniq, product, seller, review idSpace }
}

func newPlan(cfg Config) *plan {
	p := &plan{cfg: cfg, batch: uint64(cfg.Batch), ref: newRefData(), specs: tableSpecs(), mal: map[string]*malformer{}}
	n := int64(cfg.Orders)
	p.nOrders = n
	p.nProducts = max(10, n/3)
	p.nSellers = max(5, n/30)
	p.cdcEvents = max(20, n/5)
	p.cdcKeys = max(100, n/2)
	p.start, p.span = batchWindow(cfg.Batch)

	key := func(name string) uint64 { return streamKey(cfg.Seed, cfg.Batch, name) }
	p.keys.order = key("orders")
	p.keys.price = key("product_price")
	p.keys.sellerOf = key("product_seller")
	p.keys.hasReview = key("has_review")
	p.keys.reviewReuse = key("review_reuse")
	p.keys.product = key("products")
	p.keys.seller = key("sellers")
	p.keys.geo = key("geolocation")
	p.reviewThr = threshold(0.992)
	p.reuseThr = threshold(0.005)

	p.ids.order = newIDSpace(cfg.Seed, "order")
	p.ids.customer = newIDSpace(cfg.Seed, "customer")
	p.ids.uniq = newIDSpace(cfg.Seed, "customer_unique")
	p.ids.product = newIDSpace(cfg.Seed, "product")
	p.ids.seller = newIDSpace(cfg.Seed, "seller")
	p.ids.review = newIDSpace(cfg.Seed, "review")

	for i := range p.specs {
		p.mal[p.specs[i].table] = newMalformer(&p.specs[i], cfg.MalformedRate, cfg.Seed, cfg.Batch)
	}
	return p
}

// batchWindow maps a batch number to the purchase window: the day of a
// yyyymmdd batch, the hour of a yyyymmddhh batch (years 2000..2999), else a
// deterministic day counted from 2016-10-01 (inside the original dataset's
// range), so batches 1, 2, 3 are consecutive days.
func batchWindow(batch int64) (start, span int64) {
	valid := func(y, m, d int64) bool {
		return y >= 2000 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
	}
	switch {
	case batch >= 1_000_000_000:
		y, m, d, h := batch/1_000_000, batch/10_000%100, batch/100%100, batch%100
		if valid(y, m, d) && h < 24 {
			return daysFromCivil(y, m, d)*day + h*3600, 3600
		}
	case batch >= 10_000_000:
		y, m, d := batch/10_000, batch/100%100, batch%100
		if valid(y, m, d) {
			return daysFromCivil(y, m, d) * day, day
		}
	}
	return (daysFromCivil(2016, 10, 1) + (batch-1)%700) * day, day
}

// sellerOf is the seller of product j: derived from j, so items can reference
// it without a table in memory. Busy sellers have many products.
func (p *plan) sellerOf(j int64) int64 { return skewed(at(p.keys.sellerOf, uint64(j)), p.nSellers) }

// gen writes one batch into a temp dir.
type gen struct {
	p        *plan
	dir, rel string
	progress func(Progress)
	files    map[string]*csvFile
	zips     []uint64 // bitmap of the zip prefixes used in this batch
	rows     int64
	orders   int64
}

const zipWords = 100_000/64 + 1

func newGen(cfg Config, dir, rel string, progress func(Progress)) *gen {
	return &gen{p: newPlan(cfg), dir: dir, rel: rel, progress: progress, zips: make([]uint64, zipWords)}
}

func markZip(bm []uint64, zip int32) { bm[zip>>6] |= 1 << (uint(zip) & 63) }

func (g *gen) report(table string) {
	g.progress(Progress{Table: table, Orders: g.orders, OrdersTotal: g.p.nOrders, Rows: g.rows})
}

// flushSize is how much a sequential table buffers before writing.
const flushSize = 256 << 10

// flush writes pt to f when it is full (or always with final), checking ctx.
func (g *gen) flush(ctx context.Context, f *csvFile, pt *part, final bool) error {
	if !final && len(pt.b) < flushSize {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("generating %s: %w", f.info.Path, err)
	}
	g.rows += pt.rows
	if err := f.write(pt); err != nil {
		return err
	}
	pt.reset()
	return nil
}

func (g *gen) run(ctx context.Context) (res Result, err error) {
	p := g.p
	g.files = map[string]*csvFile{}
	defer func() {
		if err != nil {
			for _, f := range g.files {
				f.f.Close()
			}
		}
	}()
	for i := range p.specs {
		f, err := createCSV(g.dir, g.rel, &p.specs[i])
		if err != nil {
			return Result{}, err
		}
		g.files[p.specs[i].table] = f
	}
	steps := []struct {
		table string
		write func(context.Context) error
	}{
		{TableSellers, g.writeSellers},
		{TableProducts, g.writeProducts},
		{TableOrders, g.writeOrders},
		{TableCDCCustomers, func(ctx context.Context) error { return g.writeCDC(ctx, g.cdcCustomers()) }},
		{TableCDCProducts, func(ctx context.Context) error { return g.writeCDC(ctx, g.cdcProducts()) }},
		{TableCDCSellers, func(ctx context.Context) error { return g.writeCDC(ctx, g.cdcSellers()) }},
		{TableGeolocation, g.writeGeolocation}, // last: it covers every zip used above
		{TableCategoryTranslation, g.writeTranslation},
	}
	for _, s := range steps {
		if err := s.write(ctx); err != nil {
			return Result{}, err
		}
		g.report(s.table)
	}

	res = Result{
		Dataset: p.cfg.Dataset, Batch: p.cfg.Batch, Dir: g.rel, Config: p.cfg,
		Rows: map[string]int64{}, Malformed: map[string]int64{},
	}
	for i := range p.specs {
		f := g.files[p.specs[i].table]
		if err := f.finish(); err != nil {
			return Result{}, err
		}
		res.Files = append(res.Files, f.info)
		res.Rows[f.info.Table] = f.info.Rows
		res.Malformed[f.info.Table] = f.info.Malformed
	}
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	return res, nil
}

// appendLocation writes `"zip",city,state`.
func appendLocation(b []byte, zip int32, c *city) []byte {
	b = appendZip(b, zip)
	b = append(b, ',')
	b = appendText(b, c.name)
	b = append(b, ',')
	return append(b, c.state...)
}

func (g *gen) writeSellers(ctx context.Context) error {
	p, d := g.p, g.p.ref
	f, m := g.files[TableSellers], p.mal[TableSellers]
	pt := &part{force: true}
	r := newRNG()
	for s := range p.nSellers {
		r.reseed(p.keys.seller, uint64(s))
		c := d.sellPick.pick(r)
		zip := d.pickZip(r, c)
		markZip(g.zips, zip)
		start := len(pt.b)
		pt.b = appendID(pt.b, p.ids.seller.id(p.batch, uint64(s)))
		pt.b = append(pt.b, ',')
		pt.b = appendLocation(pt.b, zip, &d.cities[c])
		pt.b = append(pt.b, '\n')
		pt.commit(start, 0, uint64(s), m)
		if err := g.flush(ctx, f, pt, false); err != nil {
			return err
		}
	}
	return g.flush(ctx, f, pt, true)
}

// productAttrs are a product's columns after product_id; -1 means NULL.
type productAttrs struct {
	category                      string // "" means NULL
	nameLen, descLen, photos      int64
	weight, length, height, width int64
}

// drawProduct draws product attributes: ~1.85% lack a category (and name,
// description and photo counts, as in the original), a few use one of the
// categories without a translation, a very few lack measurements.
func (d *refData) drawProduct(r *rng) productAttrs {
	var a productAttrs
	if r.chance(0.0185) {
		a.nameLen, a.descLen, a.photos = -1, -1, -1
	} else {
		a.category = d.categories[d.categoryPick.pick(r)].name
		if r.chance(0.0006) {
			a.category = d.untranslated[r.IntN(len(d.untranslated))]
		}
		a.nameLen, a.descLen = d.nameLen.draw(r), d.descLen.draw(r)
		a.photos = int64(d.photos.pick(r) + 1)
	}
	if r.chance(0.0001) {
		a.weight, a.length, a.height, a.width = -1, -1, -1, -1
	} else {
		a.weight, a.length, a.height, a.width = d.weightG.draw(r), d.lengthCm.draw(r), d.heightCm.draw(r), d.widthCm.draw(r)
	}
	return a
}

func appendProduct(b []byte, a *productAttrs) []byte {
	b = append(b, a.category...)
	for _, v := range [...]int64{a.nameLen, a.descLen, a.photos, a.weight, a.length, a.height, a.width} {
		b = append(b, ',')
		b = appendOptInt(b, v)
	}
	return b
}

func (g *gen) writeProducts(ctx context.Context) error {
	p, d := g.p, g.p.ref
	f, m := g.files[TableProducts], p.mal[TableProducts]
	pt := &part{force: true}
	r := newRNG()
	n := p.nProducts
	for j := range n {
		r.reseed(p.keys.product, uint64(j))
		a := d.drawProduct(r)
		// Every batch has a couple of untranslated categories and a NULL one,
		// whatever its size, so downstream joins always meet them.
		switch j {
		case n / 3, 2 * n / 3:
			if a.category == "" {
				a.nameLen, a.descLen, a.photos = d.nameLen.draw(r), d.descLen.draw(r), 1
			}
			a.category = d.untranslated[0]
			if j != n/3 {
				a.category = d.untranslated[1]
			}
		case n / 2:
			a.category, a.nameLen, a.descLen, a.photos = "", -1, -1, -1
		}
		start := len(pt.b)
		pt.b = appendID(pt.b, p.ids.product.id(p.batch, uint64(j)))
		pt.b = append(pt.b, ',')
		pt.b = appendProduct(pt.b, &a)
		pt.b = append(pt.b, '\n')
		pt.commit(start, 0, uint64(j), m)
		if err := g.flush(ctx, f, pt, false); err != nil {
			return err
		}
	}
	return g.flush(ctx, f, pt, true)
}

// writeGeolocation writes 1..5 points (3 on average) around the city centre
// for every zip prefix used in the batch, in zip order.
func (g *gen) writeGeolocation(ctx context.Context) error {
	p, d := g.p, g.p.ref
	f, m := g.files[TableGeolocation], p.mal[TableGeolocation]
	pt := &part{force: true}
	r := newRNG()
	for w, word := range g.zips {
		for word != 0 {
			zip := int32(w*64 + bits.TrailingZeros64(word))
			word &= word - 1
			c := &d.cities[d.cityOfZip(zip)]
			r.reseed(p.keys.geo, uint64(zip))
			// Offsets in 1e-7 degrees: integer maths plus one correctly rounded
			// division and addition, so the text is the same on every platform.
			dLat, dLng := r.Int64N(1_600_001)-800_000, r.Int64N(1_600_001)-800_000
			points := 1 + r.IntN(5)
			for k := range points {
				lat := c.lat + float64(dLat+r.Int64N(100_001)-50_000)/1e7
				lng := c.lng + float64(dLng+r.Int64N(100_001)-50_000)/1e7
				name := c.name
				if r.chance(0.3) {
					name = c.accented
				}
				start := len(pt.b)
				pt.b = appendZip(pt.b, zip)
				pt.b = append(pt.b, ',')
				pt.b = strconv.AppendFloat(pt.b, lat, 'f', -1, 64)
				pt.b = append(pt.b, ',')
				pt.b = strconv.AppendFloat(pt.b, lng, 'f', -1, 64)
				pt.b = append(pt.b, ',')
				pt.b = appendText(pt.b, name)
				pt.b = append(pt.b, ',')
				pt.b = append(pt.b, c.state...)
				pt.b = append(pt.b, '\n')
				pt.commit(start, 0, uint64(zip)<<3|uint64(k), m)
			}
			if err := g.flush(ctx, f, pt, false); err != nil {
				return err
			}
		}
	}
	return g.flush(ctx, f, pt, true)
}

func (g *gen) writeTranslation(ctx context.Context) error {
	p, d := g.p, g.p.ref
	f, m := g.files[TableCategoryTranslation], p.mal[TableCategoryTranslation]
	pt := &part{}
	for i, c := range d.categories[:d.translated] {
		start := len(pt.b)
		pt.b = append(pt.b, c.name...)
		pt.b = append(pt.b, ',')
		pt.b = append(pt.b, c.english...)
		pt.b = append(pt.b, '\n')
		pt.commit(start, 0, uint64(i), m)
	}
	return g.flush(ctx, f, pt, true)
}
