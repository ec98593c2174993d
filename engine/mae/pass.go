package mae

import (
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/model"
)

// blockActs holds one transformer block's saved activations; rows = B*T.
type blockActs struct {
	x                       backend.View // block input (rows x d), the previous block's out
	ln1, mean1, rstd1       backend.View
	qkv, probs, att         backend.View
	mid                     backend.View // x + attention branch
	ln2, mean2, rstd2       backend.View
	hidden, act             backend.View // fc1 output before / after GELU (rows x hidden)
	out                     backend.View // mid + MLP branch
	rows, d, hdim, heads, t int
	params                  model.BlockSpans
}

// Pass holds the activations of one batch shape (B images, K kept patches)
// and runs the forward and backward passes. Create it once per shape and
// reuse it every step.
type Pass struct {
	m    *Model
	B, K int

	images, patches, target  backend.View
	keep, restore, mask      backend.View
	emb, first               backend.View
	enc                      []blockActs
	encOut, encMean, encRstd backend.View
	decIn                    backend.View // decoder embedding (B, 1+K, Dd)
	dec                      []blockActs
	decOut, decMean, decRstd backend.View
	pred, loss               backend.View
	numMasked                float32

	// backward scratch
	dres, dresDec, dln, datt, dqkv, dhid, dact backend.View
	dpred, ddecIn, demb                        backend.View
}

// NewPass allocates the activations for batches of b images keeping k
// patches each.
func (m *Model) NewPass(b, k int) (*Pass, error) {
	c := m.Config
	l := c.NumPatches()
	if err := CheckPassShape(b, k, l); err != nil {
		return nil, err
	}
	if err := EstimateMemory(c, b, k, 1, false).Check(fmt.Sprintf("a pass of %d images", b)); err != nil {
		return nil, fmt.Errorf("new pass: %w", err)
	}
	kn := m.K
	p := buildPass(c, m.Layout, b, k,
		func(n int) backend.View { return backend.Whole(kn.NewBuffer(n)) },
		func(n int) backend.View { return backend.Whole(kn.NewIndexBuffer(n)) })
	p.m = m
	return p, nil
}

// buildPass lays out a pass's activations, allocating each with f (float32)
// or idx (int32); EstimateMemory mirrors its sizes.
func buildPass(c model.Config, lay *model.Layout, b, k int, f, idx func(n int) backend.View) *Pass {
	l := c.NumPatches()
	D, Dd, PD := c.HiddenSize, c.DecoderHiddenSize, c.PatchDim()
	te, td := 1+k, 1+l
	p := &Pass{B: b, K: k, numMasked: float32(b * (l - k))}
	p.images = f(b * c.NumChannels * c.ImageSize * c.ImageSize)
	p.patches = f(b * l * PD)
	p.target = p.patches
	if c.NormPixLoss {
		p.target = f(b * l * PD)
	}
	p.keep, p.restore, p.mask = idx(b*k), idx(b*l), f(b*l)
	p.emb, p.first = f(b*l*D), f(D)

	x0 := f(b * te * D)
	p.enc = newBlocks(f, b, lay.Spans.Enc, x0, te, D, c.IntermediateSize, c.NumAttentionHeads)
	p.encOut, p.encMean, p.encRstd = f(b*te*D), f(b*te), f(b*te)
	p.decIn = f(b * te * Dd)
	z0 := f(b * td * Dd)
	p.dec = newBlocks(f, b, lay.Spans.Dec, z0, td, Dd, c.DecoderIntermediateSize, c.DecoderNumAttentionHeads)
	p.decOut, p.decMean, p.decRstd = f(b*td*Dd), f(b*td), f(b*td)
	p.pred, p.loss = f(b*td*PD), f(1)

	maxRowsD := max(b*te*D, b*td*Dd)
	maxHid := max(b*te*c.IntermediateSize, b*td*c.DecoderIntermediateSize)
	p.dres, p.dresDec = f(b*te*D), f(b*td*Dd)
	p.dln, p.datt, p.dqkv = f(maxRowsD), f(maxRowsD), f(3*maxRowsD)
	p.dhid, p.dact = f(maxHid), f(maxHid)
	p.dpred, p.ddecIn, p.demb = f(b*td*PD), f(b*te*Dd), f(b*l*D)
	return p
}

// newBlocks allocates the activations of a stack of transformer blocks
// on b sequences of t tokens; in is the first block's input.
func newBlocks(f func(int) backend.View, b int, spans []model.BlockSpans, in backend.View, t, d, hdim, heads int) []blockActs {
	acts := make([]blockActs, len(spans))
	rows := b * t
	for i := range acts {
		a := &acts[i]
		a.x, a.rows, a.d, a.hdim, a.heads, a.t, a.params = in, rows, d, hdim, heads, t, spans[i]
		a.ln1, a.mean1, a.rstd1 = f(rows*d), f(rows), f(rows)
		a.qkv, a.probs, a.att = f(rows*3*d), f(b*heads*t*t), f(rows*d)
		a.mid = f(rows * d)
		a.ln2, a.mean2, a.rstd2 = f(rows*d), f(rows), f(rows)
		a.hidden, a.act = f(rows*hdim), f(rows*hdim)
		a.out = f(rows * d)
		in = a.out
	}
	return acts
}

// encIn is the encoder input (B, 1+K, D).
func (p *Pass) encIn() backend.View { return p.enc[0].x }

// decTokens is the decoder input after position embedding (B, 1+L, Dd).
func (p *Pass) decTokens() backend.View { return p.dec[0].x }

// SetInputs uploads a batch of images (B, C, H, W), normalised, and its
// masking (B, L with K kept per sample).
func (p *Pass) SetInputs(images []float32, mk model.Masking) error {
	c := p.m.Config
	if len(images) != p.images.Len {
		return fmt.Errorf("set inputs: %d pixel values, want %d (B=%d, C=%d, %dx%d)", len(images), p.images.Len, p.B, c.NumChannels, c.ImageSize, c.ImageSize)
	}
	if mk.B != p.B || mk.L != c.NumPatches() || mk.K != p.K {
		return fmt.Errorf("set inputs: masking B=%d L=%d K=%d, pass expects B=%d L=%d K=%d", mk.B, mk.L, mk.K, p.B, c.NumPatches(), p.K)
	}
	k := p.m.K
	k.Write(p.images, images)
	k.WriteIndex(p.keep, mk.Keep)
	k.WriteIndex(p.restore, mk.Restore)
	k.Write(p.mask, mk.Mask)
	return nil
}

// forwardEncoder runs the patch embedding, the encoder on the kept
// patches and its final layer norm into encOut.
func (p *Pass) forwardEncoder() {
	m, k, c := p.m, p.m.K, p.m.Config
	s := m.Layout.Spans
	l, D, PD := c.NumPatches(), c.HiddenSize, c.PatchDim()
	eps := float32(c.LayerNormEps)

	k.Patchify(p.patches, p.images, p.B, c.NumChannels, c.ImageSize, c.ImageSize, c.PatchSize)
	m.Linear(p.emb, p.patches, s.PatchW, s.PatchB, p.B*l, PD, D, false)
	pos := m.P(s.Pos)
	k.AddBroadcast(p.emb, pos.Sub(D, l*D), p.B)
	k.Copy(p.first, m.P(s.Cls))
	k.Add(p.first, pos.Sub(0, D))
	k.GatherTokens(p.encIn(), p.emb, p.first, p.keep, p.B, l, p.K, D)
	for i := range p.enc {
		p.blockForward(&p.enc[i], eps)
	}
	last := p.enc[len(p.enc)-1].out
	k.LayerNorm(p.encOut, p.encMean, p.encRstd, last, m.P(s.NormW), m.P(s.NormB), p.B*(1+p.K), D, eps)
}

// Forward runs the encoder, decoder and loss on the inputs set by
// SetInputs. Results stay on the device: read them with Loss, Prediction.
func (p *Pass) Forward() {
	m, k, c := p.m, p.m.K, p.m.Config
	s := m.Layout.Spans
	l, D, Dd, PD := c.NumPatches(), c.HiddenSize, c.DecoderHiddenSize, c.PatchDim()
	eps := float32(c.LayerNormEps)
	te, td := 1+p.K, 1+l

	p.forwardEncoder()
	m.Linear(p.decIn, p.encOut, s.DecEmbedW, s.DecEmbedB, p.B*te, D, Dd, false)
	k.Unshuffle(p.decTokens(), p.decIn, m.P(s.MaskToken), p.restore, p.B, l, p.K, Dd)
	k.AddBroadcast(p.decTokens(), m.P(s.DecPos), p.B)
	for i := range p.dec {
		p.blockForward(&p.dec[i], eps)
	}
	last := p.dec[len(p.dec)-1].out
	k.LayerNorm(p.decOut, p.decMean, p.decRstd, last, m.P(s.DecNormW), m.P(s.DecNormB), p.B*td, Dd, eps)
	m.Linear(p.pred, p.decOut, s.PredW, s.PredB, p.B*td, Dd, PD, false)

	if c.NormPixLoss {
		k.NormalizePatches(p.target, p.patches, p.B*l, PD)
	}
	k.MaskedMSE(p.loss, p.pred, p.target, p.mask, p.B, l, PD, p.numMasked)
}

func (p *Pass) blockForward(a *blockActs, eps float32) {
	k, m, w := p.m.K, p.m, a.params
	k.LayerNorm(a.ln1, a.mean1, a.rstd1, a.x, m.P(w.LN1W), m.P(w.LN1B), a.rows, a.d, eps)
	m.Linear(a.qkv, a.ln1, w.QKVW, w.QKVB, a.rows, a.d, 3*a.d, false)
	k.Attention(a.att, a.probs, a.qkv, p.B, a.t, a.heads, a.d/a.heads)
	k.Copy(a.mid, a.x)
	m.Linear(a.mid, a.att, w.ProjW, w.ProjB, a.rows, a.d, a.d, true)
	k.LayerNorm(a.ln2, a.mean2, a.rstd2, a.mid, m.P(w.LN2W), m.P(w.LN2B), a.rows, a.d, eps)
	k.MatMulGELU(a.hidden, a.act, a.ln2, m.P(w.FC1W), m.P(w.FC1B), backend.MatMul{M: a.rows, N: a.hdim, K: a.d, TransB: true})
	k.Copy(a.out, a.mid)
	m.Linear(a.out, a.act, w.FC2W, w.FC2B, a.rows, a.hdim, a.d, true)
}

// blockBackward turns dres, the gradient of the block output (rows x d),
// into the gradient of the block input, in place, writing the block's
// parameter gradients.
func (p *Pass) blockBackward(a *blockActs, dres backend.View) {
	k, m, w := p.m.K, p.m, a.params
	n, nh, n3 := a.rows*a.d, a.rows*a.hdim, a.rows*3*a.d
	dln, datt, dqkv, dhid, dact := p.dln.Sub(0, n), p.datt.Sub(0, n), p.dqkv.Sub(0, n3), p.dhid.Sub(0, nh), p.dact.Sub(0, nh)

	// MLP branch: out = mid + fc2(gelu(fc1(ln2(mid)))).
	m.LinearBackward(dact, dres, a.act, w.FC2W, w.FC2B, a.rows, a.hdim, a.d, false)
	k.GELUBackward(dhid, dact, a.hidden)
	m.LinearBackward(dln, dhid, a.ln2, w.FC1W, w.FC1B, a.rows, a.d, a.hdim, false)
	k.LayerNormBackward(dres, m.G(w.LN2W), m.G(w.LN2B), dln, a.mid, a.mean2, a.rstd2, m.P(w.LN2W), a.rows, a.d, true)

	// Attention branch: mid = x + proj(attn(qkv(ln1(x)))).
	m.LinearBackward(datt, dres, a.att, w.ProjW, w.ProjB, a.rows, a.d, a.d, false)
	k.AttentionBackward(dqkv, datt, a.qkv, a.probs, p.B, a.t, a.heads, a.d/a.heads)
	m.LinearBackward(dln, dqkv, a.ln1, w.QKVW, w.QKVB, a.rows, a.d, 3*a.d, false)
	k.LayerNormBackward(dres, m.G(w.LN1W), m.G(w.LN1B), dln, a.x, a.mean1, a.rstd1, m.P(w.LN1W), a.rows, a.d, true)
}

// Backward computes the gradient of the loss with respect to every
// trainable parameter into the model's gradient buffer (overwriting it;
// the frozen position embeddings keep a zero gradient). It needs the
// activations of the Forward call before it.
func (p *Pass) Backward() {
	m, k, c := p.m, p.m.K, p.m.Config
	s := m.Layout.Spans
	l, D, Dd, PD := c.NumPatches(), c.HiddenSize, c.DecoderHiddenSize, c.PatchDim()
	te, td := 1+p.K, 1+l

	k.MaskedMSEBackward(p.dpred, p.pred, p.target, p.mask, p.B, l, PD, p.numMasked, 1)
	dn := p.dln.Sub(0, p.B*td*Dd)
	m.LinearBackward(dn, p.dpred, p.decOut, s.PredW, s.PredB, p.B*td, Dd, PD, false)
	last := p.dec[len(p.dec)-1].out
	k.LayerNormBackward(p.dresDec, m.G(s.DecNormW), m.G(s.DecNormB), dn, last, p.decMean, p.decRstd, m.P(s.DecNormW), p.B*td, Dd, false)
	for i := len(p.dec) - 1; i >= 0; i-- {
		p.blockBackward(&p.dec[i], p.dresDec)
	}
	k.UnshuffleBackward(p.ddecIn, m.G(s.MaskToken), p.dresDec, p.keep, p.mask, p.B, l, p.K, Dd)
	dn = p.dln.Sub(0, p.B*te*D)
	m.LinearBackward(dn, p.ddecIn, p.encOut, s.DecEmbedW, s.DecEmbedB, p.B*te, D, Dd, false)
	last = p.enc[len(p.enc)-1].out
	k.LayerNormBackward(p.dres, m.G(s.NormW), m.G(s.NormB), dn, last, p.encMean, p.encRstd, m.P(s.NormW), p.B*te, D, false)
	for i := len(p.enc) - 1; i >= 0; i-- {
		p.blockBackward(&p.enc[i], p.dres)
	}
	k.GatherTokensBackward(p.demb, m.G(s.Cls), p.dres, p.keep, p.B, l, p.K, D)
	m.LinearBackward(backend.View{}, p.demb, p.patches, s.PatchW, s.PatchB, p.B*l, PD, D, false)
}

// Loss reads the masked-patch loss of the last Forward.
func (p *Pass) Loss() (float32, error) {
	var out [1]float32
	if err := p.m.K.Read(p.loss, out[:]); err != nil {
		return 0, fmt.Errorf("read loss: %w", err)
	}
	return out[0], nil
}

// Prediction reads the decoder output without the CLS row: (B, L, P*P*C),
// the logits of Hugging Face's ViTMAEForPreTraining.
func (p *Pass) Prediction() ([]float32, error) {
	c := p.m.Config
	l, pd := c.NumPatches(), c.PatchDim()
	all := make([]float32, p.pred.Len)
	if err := p.m.K.Read(p.pred, all); err != nil {
		return nil, fmt.Errorf("read prediction: %w", err)
	}
	out := make([]float32, 0, p.B*l*pd)
	for b := 0; b < p.B; b++ {
		out = append(out, all[(b*(1+l)+1)*pd:(b+1)*(1+l)*pd]...)
	}
	return out, nil
}
