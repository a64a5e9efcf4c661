package datagen

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// stateCEP are the official CEP (zip) prefix ranges of each Brazilian state.
func stateCEP() map[string][]zipRange {
	return map[string][]zipRange{
		"SP": {z(1000, 19999)}, "RJ": {z(20000, 28999)}, "ES": {z(29000, 29999)}, "MG": {z(30000, 39999)},
		"BA": {z(40000, 48999)}, "SE": {z(49000, 49999)}, "PE": {z(50000, 56999)}, "AL": {z(57000, 57999)},
		"PB": {z(58000, 58999)}, "RN": {z(59000, 59999)}, "CE": {z(60000, 63999)}, "PI": {z(64000, 64999)},
		"MA": {z(65000, 65999)}, "PA": {z(66000, 68899)}, "AP": {z(68900, 68999)}, "AM": {z(69000, 69299), z(69400, 69899)},
		"RR": {z(69300, 69399)}, "AC": {z(69900, 69999)}, "DF": {z(70000, 72799), z(73000, 73699)},
		"GO": {z(72800, 72999), z(73700, 76799)}, "RO": {z(76800, 76999)}, "TO": {z(77000, 77999)},
		"MT": {z(78000, 78899)}, "MS": {z(79000, 79999)}, "PR": {z(80000, 87999)}, "SC": {z(88000, 89999)},
		"RS": {z(90000, 99999)},
	}
}

func TestCityTable(t *testing.T) {
	t.Parallel()
	d := newRefData()
	cep := stateCEP()
	require.Len(t, cep, 27)
	states := map[string]bool{}
	owner := map[int32]string{}
	for i, c := range d.cities {
		states[c.state] = true
		require.Regexp(t, `^[a-z' -]+$`, c.name, "city names are lowercase and unaccented")
		require.Positive(t, c.custW, c.name)
		require.Positive(t, c.sellW, c.name)
		for _, r := range c.zips {
			inState := false
			for _, sr := range cep[c.state] {
				inState = inState || (r.lo >= sr.lo && r.hi <= sr.hi)
			}
			require.True(t, inState, "%s: zips %05d-%05d are outside %s's CEP ranges", c.name, r.lo, r.hi, c.state)
			for zip := r.lo; zip <= r.hi; zip++ {
				if prev, dup := owner[zip]; dup {
					t.Fatalf("%s and %s share zip %05d", prev, c.name, zip)
				}
				owner[zip] = c.name
				if got := d.cityOfZip(zip); got != i {
					t.Fatalf("cityOfZip(%05d) = %d, want %d (%s)", zip, got, i, c.name)
				}
			}
		}
	}
	require.Len(t, states, 27, "every state has a city")
	require.Equal(t, -1, d.cityOfZip(0))
	require.Equal(t, -1, d.cityOfZip(99999))
}

func TestCategoryTable(t *testing.T) {
	t.Parallel()
	d := newRefData()
	require.Equal(t, 71, d.translated)
	names := map[string]bool{}
	for _, c := range d.categories {
		require.False(t, names[c.name], "duplicate category %s", c.name)
		names[c.name] = true
	}
	require.Equal(t, []string{"pc_gamer", "portateis_cozinha_e_preparadores_de_alimentos"}, d.untranslated)
}

func TestIDsAreUniqueAndHex(t *testing.T) {
	t.Parallel()
	s := newIDSpace(1, "order")
	seen := map[[16]byte]bool{}
	for batch := uint64(1); batch <= 3; batch++ {
		for i := range uint64(50_000) {
			id := s.id(batch, i)
			require.False(t, seen[id], "id of (%d, %d) repeats", batch, i)
			seen[id] = true
		}
	}
	b := appendID(nil, s.id(1, 0))
	require.Regexp(t, `^"[0-9a-f]{32}"$`, string(b))
	seed2, customer := newIDSpace(2, "order"), newIDSpace(1, "customer")
	require.NotEqual(t, s.id(1, 0), seed2.id(1, 0), "ids depend on the seed")
	require.NotEqual(t, s.id(1, 0), customer.id(1, 0), "ids depend on the entity")
}
