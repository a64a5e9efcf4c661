package datagen

import "sort"

// The tables below are vocabulary, not data: Brazilian cities with their CEP
// (zip) prefix ranges and rough centres, the Olist product category names and
// their English translations, and Portuguese review phrases written for
// Sluice. Weights approximate the shape of the public Olist dataset (SP-heavy
// customers, even more SP-heavy sellers, bed/bath and sports leading the
// categories). They are built per Generate call (no package state).

// zipRange is an inclusive range of 5-digit zip prefixes.
type zipRange struct{ lo, hi int32 }

type city struct {
	name     string // lowercase, unaccented: how customers/sellers spell it
	accented string // how geolocation sometimes spells it
	state    string
	lat, lng float64
	custW    float64 // relative share of customers
	sellW    float64 // relative share of sellers
	zips     []zipRange
}

func z(lo, hi int32) zipRange { return zipRange{lo, hi} }

func cityTable() []city {
	return []city{
		// SP
		{"sao paulo", "são paulo", "SP", -23.5505, -46.6333, 15.6, 22, []zipRange{z(1000, 5999), z(8000, 8499)}},
		{"guarulhos", "guarulhos", "SP", -23.4543, -46.5337, 1.2, 1.5, []zipRange{z(7000, 7399)}},
		{"osasco", "osasco", "SP", -23.5325, -46.7917, 0.75, 0.6, []zipRange{z(6000, 6299)}},
		{"carapicuiba", "carapicuíba", "SP", -23.5235, -46.8407, 0.3, 0.1, []zipRange{z(6300, 6399)}},
		{"barueri", "barueri", "SP", -23.5057, -46.8790, 0.4, 0.8, []zipRange{z(6400, 6499)}},
		{"cotia", "cotia", "SP", -23.6022, -46.9190, 0.3, 0.4, []zipRange{z(6700, 6749)}},
		{"taboao da serra", "taboão da serra", "SP", -23.6019, -46.7526, 0.3, 0.2, []zipRange{z(6750, 6799)}},
		{"itaquaquecetuba", "itaquaquecetuba", "SP", -23.4864, -46.3484, 0.25, 0.1, []zipRange{z(8570, 8599)}},
		{"suzano", "suzano", "SP", -23.5425, -46.3108, 0.25, 0.1, []zipRange{z(8600, 8699)}},
		{"mogi das cruzes", "mogi das cruzes", "SP", -23.5208, -46.1854, 0.4, 0.3, []zipRange{z(8700, 8899)}},
		{"santo andre", "santo andré", "SP", -23.6639, -46.5383, 0.8, 0.6, []zipRange{z(9000, 9299)}},
		{"maua", "mauá", "SP", -23.6677, -46.4613, 0.3, 0.1, []zipRange{z(9300, 9399)}},
		{"sao caetano do sul", "são caetano do sul", "SP", -23.6229, -46.5548, 0.3, 0.3, []zipRange{z(9500, 9599)}},
		{"sao bernardo do campo", "são bernardo do campo", "SP", -23.6914, -46.5646, 0.95, 0.8, []zipRange{z(9600, 9899)}},
		{"diadema", "diadema", "SP", -23.6813, -46.6205, 0.35, 0.3, []zipRange{z(9900, 9999)}},
		{"santos", "santos", "SP", -23.9608, -46.3336, 0.7, 0.3, []zipRange{z(11000, 11099)}},
		{"sao vicente", "são vicente", "SP", -23.9631, -46.3919, 0.25, 0.05, []zipRange{z(11300, 11399)}},
		{"guaruja", "guarujá", "SP", -23.9888, -46.2580, 0.2, 0.05, []zipRange{z(11400, 11499)}},
		{"praia grande", "praia grande", "SP", -24.0058, -46.4028, 0.3, 0.1, []zipRange{z(11700, 11729)}},
		{"taubate", "taubaté", "SP", -23.0264, -45.5553, 0.3, 0.2, []zipRange{z(12000, 12129)}},
		{"sao jose dos campos", "são josé dos campos", "SP", -23.1791, -45.8872, 0.7, 0.5, []zipRange{z(12200, 12249)}},
		{"jacarei", "jacareí", "SP", -23.3053, -45.9658, 0.2, 0.1, []zipRange{z(12300, 12349)}},
		{"braganca paulista", "bragança paulista", "SP", -22.9527, -46.5419, 0.15, 0.2, []zipRange{z(12900, 12929)}},
		{"atibaia", "atibaia", "SP", -23.1171, -46.5563, 0.12, 0.2, []zipRange{z(12940, 12954)}},
		{"campinas", "campinas", "SP", -22.9099, -47.0626, 1.5, 1.5, []zipRange{z(13000, 13139)}},
		{"sumare", "sumaré", "SP", -22.8219, -47.2669, 0.2, 0.2, []zipRange{z(13170, 13182)}},
		{"hortolandia", "hortolândia", "SP", -22.8529, -47.2143, 0.15, 0.1, []zipRange{z(13183, 13189)}},
		{"jundiai", "jundiaí", "SP", -23.1857, -46.8978, 0.5, 0.5, []zipRange{z(13200, 13219)}},
		{"valinhos", "valinhos", "SP", -22.9698, -46.9974, 0.15, 0.2, []zipRange{z(13270, 13279)}},
		{"indaiatuba", "indaiatuba", "SP", -23.0816, -47.2101, 0.3, 0.2, []zipRange{z(13330, 13349)}},
		{"piracicaba", "piracicaba", "SP", -22.7338, -47.6476, 0.4, 1.0, []zipRange{z(13400, 13429)}},
		{"americana", "americana", "SP", -22.7374, -47.3331, 0.2, 0.3, []zipRange{z(13465, 13479)}},
		{"limeira", "limeira", "SP", -22.5647, -47.4017, 0.2, 0.6, []zipRange{z(13480, 13489)}},
		{"rio claro", "rio claro", "SP", -22.4149, -47.5651, 0.15, 0.2, []zipRange{z(13500, 13509)}},
		{"sao carlos", "são carlos", "SP", -22.0087, -47.8909, 0.3, 0.3, []zipRange{z(13560, 13579)}},
		{"ribeirao preto", "ribeirão preto", "SP", -21.1704, -47.8103, 0.6, 1.2, []zipRange{z(14000, 14114)}},
		{"franca", "franca", "SP", -20.5386, -47.4008, 0.25, 0.3, []zipRange{z(14400, 14414)}},
		{"araraquara", "araraquara", "SP", -21.7845, -48.1780, 0.2, 0.2, []zipRange{z(14800, 14811)}},
		{"ibitinga", "ibitinga", "SP", -21.7562, -48.8283, 0.02, 0.9, []zipRange{z(14940, 14944)}},
		{"sao jose do rio preto", "são josé do rio preto", "SP", -20.8113, -49.3758, 0.4, 0.6, []zipRange{z(15000, 15099)}},
		{"bauru", "bauru", "SP", -22.3246, -49.0871, 0.3, 0.4, []zipRange{z(17000, 17099)}},
		{"marilia", "marília", "SP", -22.2171, -49.9501, 0.2, 0.2, []zipRange{z(17500, 17529)}},
		{"sorocaba", "sorocaba", "SP", -23.5015, -47.4526, 0.6, 0.6, []zipRange{z(18000, 18109)}},
		{"presidente prudente", "presidente prudente", "SP", -22.1207, -51.3925, 0.2, 0.1, []zipRange{z(19000, 19069)}},
		// RJ
		{"rio de janeiro", "rio de janeiro", "RJ", -22.9068, -43.1729, 6.9, 2.5, []zipRange{z(20000, 23799)}},
		{"niteroi", "niterói", "RJ", -22.8832, -43.1034, 0.85, 0.3, []zipRange{z(24000, 24399)}},
		{"sao goncalo", "são gonçalo", "RJ", -22.8268, -43.0634, 0.6, 0.1, []zipRange{z(24400, 24799)}},
		{"duque de caxias", "duque de caxias", "RJ", -22.7856, -43.3117, 0.35, 0.1, []zipRange{z(25000, 25299)}},
		{"petropolis", "petrópolis", "RJ", -22.5112, -43.1779, 0.3, 0.4, []zipRange{z(25600, 25799)}},
		{"nova iguacu", "nova iguaçu", "RJ", -22.7592, -43.4509, 0.45, 0.1, []zipRange{z(26000, 26099)}},
		{"volta redonda", "volta redonda", "RJ", -22.5202, -44.0996, 0.2, 0.05, []zipRange{z(27200, 27299)}},
		{"macae", "macaé", "RJ", -22.3708, -41.7869, 0.15, 0.05, []zipRange{z(27900, 27999)}},
		{"campos dos goytacazes", "campos dos goytacazes", "RJ", -21.7545, -41.3244, 0.25, 0.05, []zipRange{z(28000, 28099)}},
		// MG
		{"belo horizonte", "belo horizonte", "MG", -19.9167, -43.9345, 2.8, 1.8, []zipRange{z(30000, 31999)}},
		{"contagem", "contagem", "MG", -19.9320, -44.0539, 0.3, 0.4, []zipRange{z(32000, 32399)}},
		{"betim", "betim", "MG", -19.9668, -44.1977, 0.2, 0.1, []zipRange{z(32500, 32699)}},
		{"governador valadares", "governador valadares", "MG", -18.8545, -41.9555, 0.15, 0.05, []zipRange{z(35000, 35099)}},
		{"ipatinga", "ipatinga", "MG", -19.4703, -42.5476, 0.15, 0.05, []zipRange{z(35160, 35164)}},
		{"divinopolis", "divinópolis", "MG", -20.1446, -44.8912, 0.2, 0.4, []zipRange{z(35500, 35519)}},
		{"juiz de fora", "juiz de fora", "MG", -21.7642, -43.3496, 0.7, 0.3, []zipRange{z(36000, 36099)}},
		{"varginha", "varginha", "MG", -21.5556, -45.4364, 0.1, 0.1, []zipRange{z(37000, 37099)}},
		{"pocos de caldas", "poços de caldas", "MG", -21.7878, -46.5613, 0.15, 0.1, []zipRange{z(37700, 37719)}},
		{"uberaba", "uberaba", "MG", -19.7472, -47.9381, 0.2, 0.1, []zipRange{z(38000, 38099)}},
		{"uberlandia", "uberlândia", "MG", -18.9186, -48.2772, 0.45, 0.4, []zipRange{z(38400, 38414)}},
		{"montes claros", "montes claros", "MG", -16.7286, -43.8582, 0.25, 0.05, []zipRange{z(39400, 39409)}},
		// RS
		{"porto alegre", "porto alegre", "RS", -30.0346, -51.2177, 1.4, 0.6, []zipRange{z(90000, 91999)}},
		{"canoas", "canoas", "RS", -29.9178, -51.1839, 0.3, 0.1, []zipRange{z(92000, 92499)}},
		{"novo hamburgo", "novo hamburgo", "RS", -29.6783, -51.1309, 0.2, 0.3, []zipRange{z(93300, 93599)}},
		{"caxias do sul", "caxias do sul", "RS", -29.1678, -51.1794, 0.4, 0.3, []zipRange{z(95000, 95129)}},
		{"pelotas", "pelotas", "RS", -31.7654, -52.3376, 0.3, 0.05, []zipRange{z(96000, 96099)}},
		{"santa maria", "santa maria", "RS", -29.6842, -53.8069, 0.25, 0.05, []zipRange{z(97000, 97119)}},
		{"passo fundo", "passo fundo", "RS", -28.2612, -52.4083, 0.15, 0.05, []zipRange{z(99000, 99099)}},
		// PR
		{"curitiba", "curitiba", "PR", -25.4284, -49.2733, 1.5, 2.5, []zipRange{z(80000, 82999)}},
		{"sao jose dos pinhais", "são josé dos pinhais", "PR", -25.5313, -49.2031, 0.2, 0.3, []zipRange{z(83000, 83099)}},
		{"ponta grossa", "ponta grossa", "PR", -25.0945, -50.1633, 0.2, 0.1, []zipRange{z(84000, 84099)}},
		{"cascavel", "cascavel", "PR", -24.9573, -53.4590, 0.2, 0.1, []zipRange{z(85800, 85829)}},
		{"foz do iguacu", "foz do iguaçu", "PR", -25.5469, -54.5882, 0.15, 0.05, []zipRange{z(85850, 85869)}},
		{"londrina", "londrina", "PR", -23.3045, -51.1696, 0.5, 0.6, []zipRange{z(86000, 86099)}},
		{"maringa", "maringá", "PR", -23.4205, -51.9333, 0.4, 0.7, []zipRange{z(87000, 87099)}},
		// SC
		{"florianopolis", "florianópolis", "SC", -27.5954, -48.5480, 0.6, 0.3, []zipRange{z(88000, 88099)}},
		{"sao jose", "são josé", "SC", -27.6136, -48.6366, 0.25, 0.2, []zipRange{z(88100, 88124)}},
		{"itajai", "itajaí", "SC", -26.9078, -48.6619, 0.2, 0.3, []zipRange{z(88300, 88319)}},
		{"criciuma", "criciúma", "SC", -28.6775, -49.3697, 0.15, 0.2, []zipRange{z(88800, 88819)}},
		{"blumenau", "blumenau", "SC", -26.9194, -49.0661, 0.35, 0.5, []zipRange{z(89000, 89099)}},
		{"joinville", "joinville", "SC", -26.3045, -48.8487, 0.4, 0.4, []zipRange{z(89200, 89239)}},
		{"chapeco", "chapecó", "SC", -27.1004, -52.6152, 0.15, 0.05, []zipRange{z(89800, 89816)}},
		// BA
		{"salvador", "salvador", "BA", -12.9777, -38.5016, 1.3, 0.2, []zipRange{z(40000, 42599)}},
		{"lauro de freitas", "lauro de freitas", "BA", -12.8978, -38.3271, 0.1, 0.05, []zipRange{z(42700, 42709)}},
		{"camacari", "camaçari", "BA", -12.6996, -38.3263, 0.1, 0.02, []zipRange{z(42800, 42849)}},
		{"feira de santana", "feira de santana", "BA", -12.2664, -38.9663, 0.25, 0.05, []zipRange{z(44000, 44099)}},
		{"vitoria da conquista", "vitória da conquista", "BA", -14.8615, -40.8442, 0.15, 0.03, []zipRange{z(45000, 45099)}},
		{"ilheus", "ilhéus", "BA", -14.7935, -39.0463, 0.08, 0.02, []zipRange{z(45650, 45669)}},
		// DF
		{"brasilia", "brasília", "DF", -15.7939, -47.8828, 2.1, 0.35, []zipRange{z(70000, 72799)}},
		// ES
		{"vitoria", "vitória", "ES", -20.3155, -40.3128, 0.45, 0.1, []zipRange{z(29000, 29099)}},
		{"vila velha", "vila velha", "ES", -20.3297, -40.2925, 0.4, 0.05, []zipRange{z(29100, 29129)}},
		{"cariacica", "cariacica", "ES", -20.2632, -40.4165, 0.2, 0.02, []zipRange{z(29140, 29159)}},
		{"serra", "serra", "ES", -20.1286, -40.3080, 0.3, 0.05, []zipRange{z(29160, 29184)}},
		{"cachoeiro de itapemirim", "cachoeiro de itapemirim", "ES", -20.8483, -41.1129, 0.1, 0.03, []zipRange{z(29300, 29319)}},
		// GO
		{"goiania", "goiânia", "GO", -16.6869, -49.2648, 1.0, 0.35, []zipRange{z(74000, 74899)}},
		{"aparecida de goiania", "aparecida de goiânia", "GO", -16.8198, -49.2469, 0.25, 0.1, []zipRange{z(74900, 74999)}},
		{"anapolis", "anápolis", "GO", -16.3281, -48.9530, 0.15, 0.05, []zipRange{z(75000, 75149)}},
		{"rio verde", "rio verde", "GO", -17.7923, -50.9192, 0.08, 0.02, []zipRange{z(75900, 75909)}},
		// PE
		{"recife", "recife", "PE", -8.0476, -34.8770, 0.9, 0.3, []zipRange{z(50000, 52999)}},
		{"olinda", "olinda", "PE", -8.0089, -34.8553, 0.2, 0.05, []zipRange{z(53000, 53299)}},
		{"jaboatao dos guararapes", "jaboatão dos guararapes", "PE", -8.1130, -35.0148, 0.25, 0.05, []zipRange{z(54000, 54499)}},
		{"caruaru", "caruaru", "PE", -8.2760, -35.9819, 0.1, 0.03, []zipRange{z(55000, 55099)}},
		{"petrolina", "petrolina", "PE", -9.3891, -40.5030, 0.1, 0.02, []zipRange{z(56300, 56334)}},
		// CE
		{"fortaleza", "fortaleza", "CE", -3.7319, -38.5267, 1.0, 0.1, []zipRange{z(60000, 61599)}},
		{"caucaia", "caucaia", "CE", -3.7361, -38.6531, 0.1, 0.01, []zipRange{z(61600, 61699)}},
		{"sobral", "sobral", "CE", -3.6880, -40.3497, 0.05, 0.01, []zipRange{z(62000, 62099)}},
		{"juazeiro do norte", "juazeiro do norte", "CE", -7.2130, -39.3151, 0.1, 0.02, []zipRange{z(63000, 63099)}},
		// PA
		{"belem", "belém", "PA", -1.4558, -48.4902, 0.6, 0.05, []zipRange{z(66000, 66999)}},
		{"ananindeua", "ananindeua", "PA", -1.3656, -48.3722, 0.15, 0.01, []zipRange{z(67000, 67199)}},
		{"santarem", "santarém", "PA", -2.4385, -54.6996, 0.08, 0.01, []zipRange{z(68000, 68119)}},
		{"maraba", "marabá", "PA", -5.3686, -49.1179, 0.07, 0.01, []zipRange{z(68500, 68519)}},
		// MT
		{"cuiaba", "cuiabá", "MT", -15.6014, -56.0979, 0.4, 0.05, []zipRange{z(78000, 78099)}},
		{"varzea grande", "várzea grande", "MT", -15.6467, -56.1326, 0.15, 0.02, []zipRange{z(78100, 78159)}},
		{"sinop", "sinop", "MT", -11.8604, -55.5091, 0.08, 0.01, []zipRange{z(78550, 78559)}},
		{"rondonopolis", "rondonópolis", "MT", -16.4673, -54.6372, 0.12, 0.02, []zipRange{z(78700, 78749)}},
		// MA
		{"sao luis", "são luís", "MA", -2.5307, -44.3068, 0.5, 0.05, []zipRange{z(65000, 65099)}},
		{"imperatriz", "imperatriz", "MA", -5.5185, -47.4777, 0.15, 0.02, []zipRange{z(65900, 65919)}},
		// MS
		{"campo grande", "campo grande", "MS", -20.4697, -54.6201, 0.5, 0.1, []zipRange{z(79000, 79129)}},
		{"dourados", "dourados", "MS", -22.2231, -54.8120, 0.15, 0.02, []zipRange{z(79800, 79849)}},
		// PB
		{"joao pessoa", "joão pessoa", "PB", -7.1195, -34.8450, 0.35, 0.05, []zipRange{z(58000, 58099)}},
		{"campina grande", "campina grande", "PB", -7.2307, -35.8811, 0.15, 0.02, []zipRange{z(58400, 58439)}},
		// PI
		{"teresina", "teresina", "PI", -5.0892, -42.8019, 0.4, 0.03, []zipRange{z(64000, 64099)}},
		{"parnaiba", "parnaíba", "PI", -2.9055, -41.7734, 0.05, 0.01, []zipRange{z(64200, 64219)}},
		// RN
		{"natal", "natal", "RN", -5.7945, -35.2110, 0.4, 0.05, []zipRange{z(59000, 59149)}},
		{"mossoro", "mossoró", "RN", -5.1878, -37.3442, 0.1, 0.01, []zipRange{z(59600, 59649)}},
		// AL
		{"maceio", "maceió", "AL", -9.6658, -35.7350, 0.35, 0.03, []zipRange{z(57000, 57099)}},
		{"arapiraca", "arapiraca", "AL", -9.7525, -36.6611, 0.05, 0.01, []zipRange{z(57300, 57319)}},
		// SE
		{"aracaju", "aracaju", "SE", -10.9472, -37.0731, 0.3, 0.03, []zipRange{z(49000, 49099)}},
		{"lagarto", "lagarto", "SE", -10.9169, -37.6689, 0.03, 0.01, []zipRange{z(49400, 49409)}},
		// TO
		{"palmas", "palmas", "TO", -10.1844, -48.3336, 0.2, 0.02, []zipRange{z(77000, 77299)}},
		{"araguaina", "araguaína", "TO", -7.1911, -48.2072, 0.08, 0.01, []zipRange{z(77800, 77829)}},
		// RO
		{"porto velho", "porto velho", "RO", -8.7612, -63.9004, 0.15, 0.02, []zipRange{z(76800, 76849)}},
		{"ji-parana", "ji-paraná", "RO", -10.8777, -61.9322, 0.07, 0.01, []zipRange{z(76900, 76919)}},
		// AM
		{"manaus", "manaus", "AM", -3.1190, -60.0217, 0.14, 0.02, []zipRange{z(69000, 69099)}},
		{"parintins", "parintins", "AM", -2.6283, -56.7358, 0.01, 0.001, []zipRange{z(69150, 69154)}},
		// AC, AP, RR
		{"rio branco", "rio branco", "AC", -9.9754, -67.8249, 0.08, 0.005, []zipRange{z(69900, 69924)}},
		{"macapa", "macapá", "AP", 0.0349, -51.0694, 0.07, 0.005, []zipRange{z(68900, 68914)}},
		{"boa vista", "boa vista", "RR", 2.8235, -60.6758, 0.05, 0.005, []zipRange{z(69300, 69339)}},
	}
}

// category is a product category name with its English translation ("" for
// the categories the original translation file lacks).
type category struct {
	name, english string
	weight        float64 // relative share of products
}

// categoryTable lists the 71 translated categories (in the order of the
// translation file Sluice writes) followed by the two categories that appear
// on products but have no translation row, as in the original dataset.
func categoryTable() []category {
	return []category{
		{"beleza_saude", "health_beauty", 2444},
		{"informatica_acessorios", "computers_accessories", 1639},
		{"automotivo", "auto", 1900},
		{"cama_mesa_banho", "bed_bath_table", 3029},
		{"moveis_decoracao", "furniture_decor", 2657},
		{"esporte_lazer", "sports_leisure", 2867},
		{"perfumaria", "perfumery", 868},
		{"utilidades_domesticas", "housewares", 2335},
		{"telefonia", "telephony", 1134},
		{"relogios_presentes", "watches_gifts", 1329},
		{"alimentos_bebidas", "food_drink", 104},
		{"bebes", "baby", 919},
		{"papelaria", "stationery", 849},
		{"tablets_impressao_imagem", "tablets_printing_image", 9},
		{"brinquedos", "toys", 1411},
		{"telefonia_fixa", "fixed_telephony", 116},
		{"ferramentas_jardim", "garden_tools", 753},
		{"fashion_bolsas_e_acessorios", "fashion_bags_accessories", 849},
		{"eletroportateis", "small_appliances", 231},
		{"consoles_games", "consoles_games", 317},
		{"audio", "audio", 58},
		{"fashion_calcados", "fashion_shoes", 173},
		{"cool_stuff", "cool_stuff", 789},
		{"malas_acessorios", "luggage_accessories", 349},
		{"climatizacao", "air_conditioning", 124},
		{"construcao_ferramentas_construcao", "construction_tools_construction", 400},
		{"moveis_cozinha_area_de_servico_jantar_e_jardim", "kitchen_dining_laundry_garden_furniture", 94},
		{"construcao_ferramentas_jardim", "costruction_tools_garden", 88},
		{"fashion_roupa_masculina", "fashion_male_clothing", 95},
		{"pet_shop", "pet_shop", 719},
		{"moveis_escritorio", "office_furniture", 309},
		{"market_place", "market_place", 104},
		{"eletronicos", "electronics", 517},
		{"eletrodomesticos", "home_appliances", 370},
		{"artigos_de_festas", "party_supplies", 26},
		{"casa_conforto", "home_confort", 111},
		{"construcao_ferramentas_ferramentas", "costruction_tools_tools", 39},
		{"agro_industria_e_comercio", "agro_industry_and_commerce", 74},
		{"moveis_colchao_e_estofado", "furniture_mattress_and_upholstery", 10},
		{"livros_tecnicos", "books_technical", 123},
		{"casa_construcao", "home_construction", 225},
		{"instrumentos_musicais", "musical_instruments", 289},
		{"moveis_sala", "furniture_living_room", 156},
		{"construcao_ferramentas_iluminacao", "construction_tools_lights", 78},
		{"industria_comercio_e_negocios", "industry_commerce_and_business", 68},
		{"alimentos", "food", 82},
		{"artes", "art", 55},
		{"moveis_quarto", "furniture_bedroom", 45},
		{"livros_interesse_geral", "books_general_interest", 216},
		{"construcao_ferramentas_seguranca", "construction_tools_safety", 60},
		{"fashion_underwear_e_moda_praia", "fashion_underwear_beach", 53},
		{"fashion_esporte", "fashion_sport", 19},
		{"sinalizacao_e_seguranca", "signaling_and_security", 93},
		{"pcs", "computers", 30},
		{"artigos_de_natal", "christmas_supplies", 128},
		{"fashion_roupa_feminina", "fashio_female_clothing", 48},
		{"eletrodomesticos_2", "home_appliances_2", 90},
		{"livros_importados", "books_imported", 31},
		{"bebidas", "drinks", 81},
		{"cine_foto", "cine_photo", 28},
		{"la_cuisine", "la_cuisine", 10},
		{"musica", "music", 27},
		{"casa_conforto_2", "home_comfort_2", 5},
		{"portateis_casa_forno_e_cafe", "small_appliances_home_oven_and_coffee", 31},
		{"cds_dvds_musicais", "cds_dvds_musicals", 1},
		{"dvds_blu_ray", "dvds_blu_ray", 48},
		{"flores", "flowers", 14},
		{"artes_e_artesanato", "arts_and_craftmanship", 19},
		{"fraldas_higiene", "diapers_and_hygiene", 12},
		{"fashion_roupa_infanto_juvenil", "fashion_childrens_clothes", 5},
		{"seguros_e_servicos", "security_and_services", 2},
		// No translation row for these two (as in the original dataset).
		{"pc_gamer", "", 0},
		{"portateis_cozinha_e_preparadores_de_alimentos", "", 0},
	}
}

// reviewTitles are Portuguese review titles written for Sluice, grouped by
// sentiment (negative, neutral, positive).
func reviewTitles() [3][]string {
	return [3][]string{
		{"Não recebi", "Péssimo", "Produto com defeito", "Não recomendo", "Decepcionado"},
		{"Bom", "Razoável", "Ok", "Mais ou menos"},
		{"Recomendo", "Ótimo produto", "Super recomendo", "Muito bom", "Excelente", "Adorei"},
	}
}

// reviewMessages are Portuguese review comments written for Sluice, grouped
// like reviewTitles. One contains double quotes to exercise CSV escaping.
func reviewMessages() [3][]string {
	return [3][]string{
		{
			"Não recebi o produto até agora.",
			"Produto veio com defeito, aguardo a troca.",
			"Recebi apenas um dos itens que comprei.",
			"Péssimo, não recomendo esta loja.",
			"Entrega atrasada e ninguém responde as mensagens.",
			"O produto é diferente do anunciado, quero devolver.",
		},
		{
			"Produto ok, mas a embalagem veio amassada.",
			"Chegou no prazo, porém a cor é diferente da foto.",
			"Razoável, esperava um pouco mais pelo preço.",
			"A entrega demorou, mas o produto é bom.",
		},
		{
			"Produto chegou antes do prazo, muito bom!",
			"Recomendo, vendedor confiável.",
			"Ótima qualidade, exatamente como no anúncio.",
			"Entrega rápida e produto bem embalado.",
			"Gostei muito, superou minhas expectativas.",
			"Tudo certo, recebi dentro do prazo.",
			`Produto "original", igual à foto.`,
			"Comprei para presente e a pessoa adorou.",
			"Bom custo-benefício, compraria de novo.",
		},
	}
}

// weighted picks an index with probability proportional to its weight, using
// integer arithmetic so the choice is the same on every platform.
type weighted struct {
	cum   []int64
	total int64
}

func newWeighted(w []float64) weighted {
	cum := make([]int64, len(w))
	var t int64
	for i, x := range w {
		t += int64(x * 1e6)
		cum[i] = t
	}
	return weighted{cum: cum, total: t}
}

func (w *weighted) pick(r *rng) int {
	u := r.Int64N(w.total)
	// first index with cum > u
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if w.cum[m] > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// quantiles is a piecewise-linear inverse CDF: p in millionths, v the value at
// that quantile. Integer-only, so draws are identical on every platform.
type quantiles struct{ p, v []int64 }

func newQuantiles(pairs ...int64) quantiles {
	var q quantiles
	for i := 0; i+1 < len(pairs); i += 2 {
		q.p = append(q.p, pairs[i])
		q.v = append(q.v, pairs[i+1])
	}
	return q
}

func (q *quantiles) draw(r *rng) int64 {
	u := r.Int64N(1_000_000)
	k := sort.Search(len(q.p), func(i int) bool { return q.p[i] > u }) - 1
	if k >= len(q.p)-1 {
		return q.v[len(q.v)-1]
	}
	return q.v[k] + (q.v[k+1]-q.v[k])*(u-q.p[k])/(q.p[k+1]-q.p[k])
}

// refData is everything derived from the vocabulary tables for one Generate.
type refData struct {
	cities   []city
	citySize []int64 // number of zip prefixes per city
	custPick weighted
	sellPick weighted
	zipIndex []zipCity // sorted by lo, for zip -> city

	categories   []category // translated ones first
	translated   int        // len of the translated prefix
	categoryPick weighted   // over the translated ones
	untranslated []string

	titles, messages [3][]string

	statusNames  [8]string
	status       weighted // over statusNames
	hour         weighted // purchase hour of day
	itemCount    weighted // 1..n items per order
	installments weighted // 1..24
	photos       weighted // 1..20
	scoreGood    weighted // review score 1..5 for on-time deliveries
	scoreBad     weighted // review score 1..5 for late or undelivered orders

	price, freight                       quantiles // cents
	weightG, lengthCm, heightCm, widthCm quantiles
	nameLen, descLen                     quantiles
	approveCard, approveBoleto           quantiles // seconds after purchase
	toCarrier, transit                   quantiles // seconds
	estimateDays                         quantiles // days after the purchase day
}

type zipCity struct {
	lo, hi int32
	city   int
}

// Order statuses, indexes into refData.statusNames.
const (
	stDelivered = iota
	stShipped
	stCanceled
	stUnavailable
	stInvoiced
	stProcessing
	stCreated
	stApproved
)

func newRefData() *refData {
	d := &refData{cities: cityTable(), titles: reviewTitles(), messages: reviewMessages()}
	cw := make([]float64, len(d.cities))
	sw := make([]float64, len(d.cities))
	for i, c := range d.cities {
		cw[i], sw[i] = c.custW, c.sellW
		var n int64
		for _, r := range c.zips {
			n += int64(r.hi - r.lo + 1)
			d.zipIndex = append(d.zipIndex, zipCity{r.lo, r.hi, i})
		}
		d.citySize = append(d.citySize, n)
	}
	sort.Slice(d.zipIndex, func(a, b int) bool { return d.zipIndex[a].lo < d.zipIndex[b].lo })
	d.custPick, d.sellPick = newWeighted(cw), newWeighted(sw)

	d.categories = categoryTable()
	var catW []float64
	for _, c := range d.categories {
		if c.english == "" {
			d.untranslated = append(d.untranslated, c.name)
			continue
		}
		catW = append(catW, c.weight)
		d.translated++
	}
	d.categoryPick = newWeighted(catW)

	d.statusNames = [8]string{"delivered", "shipped", "canceled", "unavailable", "invoiced", "processing", "created", "approved"}
	d.status = newWeighted([]float64{0.9702, 0.0111, 0.0063, 0.0061, 0.0032, 0.0030, 0.00005, 0.00002})
	d.hour = newWeighted([]float64{2.4, 1.1, 0.5, 0.3, 0.2, 0.2, 0.5, 1.2, 3.0, 4.8, 6.2, 6.6, 6.0, 6.6, 6.7, 6.4, 6.7, 6.2, 5.8, 6.0, 6.2, 6.2, 5.8, 4.2})
	d.itemCount = newWeighted([]float64{0.8995, 0.0765, 0.0117, 0.0066, 0.0019, 0.0018, 0.0003, 0.0001, 0.00003, 0.00008, 0.00007, 0.00005})
	d.installments = newWeighted([]float64{
		0.49, 0.12, 0.10, 0.07, 0.05, 0.04, 0.016, 0.043, 0.006, 0.053, 0.0002, 0.0013,
		0.0002, 0.0001, 0.0007, 0.0001, 0.0001, 0.0003, 0.00005, 0.0002, 0.00005, 0.00005, 0.00005, 0.0002,
	})
	d.photos = newWeighted([]float64{0.50, 0.20, 0.12, 0.08, 0.05, 0.03, 0.01, 0.004, 0.002, 0.002, 0.0005, 0.0005, 0.0002, 0.0002, 0.0001, 0.0001, 0.0001, 0.0001, 0.0001, 0.0001})
	d.scoreGood = newWeighted([]float64{0.06, 0.025, 0.075, 0.20, 0.64})
	d.scoreBad = newWeighted([]float64{0.52, 0.10, 0.13, 0.10, 0.15})

	const day = 86400
	d.price = newQuantiles(0, 85, 50_000, 990, 100_000, 1490, 250_000, 3990, 500_000, 7490, 750_000, 13490, 900_000, 22990, 950_000, 34990, 990_000, 89000, 999_000, 250000, 1_000_000, 673500)
	d.freight = newQuantiles(0, 0, 3_000, 0, 3_001, 350, 100_000, 1100, 250_000, 1320, 500_000, 1630, 750_000, 2100, 900_000, 2900, 990_000, 8000, 1_000_000, 40000)
	d.weightG = newQuantiles(0, 0, 1_000, 50, 100_000, 150, 250_000, 300, 500_000, 700, 750_000, 1800, 900_000, 6000, 990_000, 22000, 1_000_000, 40425)
	d.lengthCm = newQuantiles(0, 7, 100_000, 16, 250_000, 18, 500_000, 25, 750_000, 38, 900_000, 55, 990_000, 100, 1_000_000, 105)
	d.heightCm = newQuantiles(0, 2, 100_000, 4, 250_000, 8, 500_000, 13, 750_000, 21, 900_000, 35, 990_000, 70, 1_000_000, 105)
	d.widthCm = newQuantiles(0, 6, 100_000, 11, 250_000, 15, 500_000, 20, 750_000, 30, 900_000, 40, 990_000, 80, 1_000_000, 118)
	d.nameLen = newQuantiles(0, 5, 50_000, 30, 250_000, 42, 500_000, 51, 750_000, 57, 950_000, 60, 1_000_000, 76)
	d.descLen = newQuantiles(0, 4, 100_000, 200, 250_000, 340, 500_000, 600, 750_000, 970, 900_000, 1500, 990_000, 3200, 1_000_000, 3992)
	d.approveCard = newQuantiles(0, 0, 100_000, 600, 500_000, 1200, 750_000, 3600, 900_000, 20_000, 990_000, 2*day, 1_000_000, 7*day)
	d.approveBoleto = newQuantiles(0, 20_000, 500_000, 110_000, 900_000, 200_000, 1_000_000, 500_000)
	d.toCarrier = newQuantiles(0, 6*3600, 250_000, day, 500_000, 2*day, 750_000, 4*day, 950_000, 8*day, 1_000_000, 30*day)
	d.transit = newQuantiles(0, day, 250_000, 4*day, 500_000, 7*day, 750_000, 12*day, 950_000, 25*day, 1_000_000, 60*day)
	d.estimateDays = newQuantiles(0, 8, 250_000, 18, 500_000, 23, 750_000, 29, 1_000_000, 50)
	return d
}

// pickZip draws a zip prefix of city c uniformly over its ranges.
func (d *refData) pickZip(r *rng, c int) int32 {
	n := r.Int64N(d.citySize[c])
	for _, zr := range d.cities[c].zips {
		size := int64(zr.hi - zr.lo + 1)
		if n < size {
			return zr.lo + int32(n)
		}
		n -= size
	}
	panic("unreachable: zip index beyond city ranges")
}

// cityOfZip returns the city whose range holds zip, or -1.
func (d *refData) cityOfZip(zip int32) int {
	i := sort.Search(len(d.zipIndex), func(i int) bool { return d.zipIndex[i].hi >= zip })
	if i < len(d.zipIndex) && d.zipIndex[i].lo <= zip {
		return d.zipIndex[i].city
	}
	return -1
}
