package tutorial

import (
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/mae"
	"webmae/engine/model"
)

// blockActs holds one transformer block's saved activations; rows = B*T.
type blockActs struct {
	x                              backend.View // block input (rows x d)
	ln1, mean1, rstd1              backend.View
	qkv, probs, att                backend.View // att is rows x inner
	mid                            backend.View // x + attention branch
	ln2, mean2, rstd2              backend.View
	hidden, act                    backend.View // net.1 output before / after GELU
	out                            backend.View // mid + MLP branch
	rows, d, inner, hdim, heads, t int
	params                         BlockSpans
}

// Pass holds the activations of one batch shape (B images, K kept patches)
// and runs the forward and backward passes; create it once per shape.
//
// The batch is laid out as one sequence of B*L patches (B*K kept) so that
// the official token kernels (GatherTokens, Unshuffle, MaskedMSE), which
// keep a CLS row per sample, run with b = 1 and their one CLS row becomes a
// padding row in front of the (B, K, D) or (B, L, D) tokens. The padded
// buffers end in *Pad; their Sub(width, ...) is the token tensor.
type Pass struct {
	m         *Model
	B, K      int
	numMasked float32 // B * (L - K)

	images, patches                  backend.View
	keep, restore, mask              backend.View // flattened over the batch (see flatten)
	pln, pMean1, pRstd1              backend.View // patch LayerNorm(P*P*C)
	plin                             backend.View // Linear
	emb, pMean2, pRstd2              backend.View // LayerNorm(dim) (+ positions)
	first                            backend.View // the padding row gathered in front
	encPad                           backend.View // (1 + B*K, D)
	enc                              []blockActs
	encOutPad, encMean, encRstd      backend.View // final LayerNorm of the encoder
	decInPad                         backend.View // (1 + B*K, Dd): enc_to_dec output
	decSeqPad                        backend.View // (1 + B*L, Dd): decoder input
	dec                              []blockActs
	decOut, decMean, decRstd         backend.View
	predPad, loss                    backend.View // (1 + B*L, P*P*C)
	dpredPad, ddecSeqPad, ddecInPad  backend.View
	dencPad, demb, dlin, dpln, dscr  backend.View
	dln, datt, dqkv, dhid, dact, dfr backend.View
}

// NewPass allocates the activations for batches of b images keeping k
// patches each.
func (m *Model) NewPass(b, k int) (*Pass, error) {
	c := m.Config
	l := c.NumPatches()
	if err := mae.CheckPassShape(b, k, l); err != nil {
		return nil, err
	}
	kn := m.K
	f := func(n int) backend.View { return backend.Whole(kn.NewBuffer(n)) }
	idx := func(n int) backend.View { return backend.Whole(kn.NewIndexBuffer(n)) }
	D, Dd, PD := c.Dim, c.DecoderDim, c.PatchDim()
	re, rd, rp := b*k, b*l, b*l // encoder, decoder and patch rows
	p := &Pass{m: m, B: b, K: k, numMasked: float32(b * (l - k))}
	p.images = f(b * c.Channels * c.ImageSize * c.ImageSize)
	p.patches = f(rp * PD)
	p.keep, p.restore, p.mask = idx(re), idx(rd), f(rd)
	p.pln, p.pMean1, p.pRstd1 = f(rp*PD), f(rp), f(rp)
	p.plin = f(rp * D)
	p.emb, p.pMean2, p.pRstd2 = f(rp*D), f(rp), f(rp)
	p.first = f(D)

	blocks := func(spans []BlockSpans, in backend.View, t, d, heads, dimHead, hdim int) []blockActs {
		acts := make([]blockActs, len(spans))
		rows, inner := b*t, heads*dimHead
		for i := range acts {
			a := &acts[i]
			a.x, a.rows, a.d, a.inner, a.hdim, a.heads, a.t, a.params = in, rows, d, inner, hdim, heads, t, spans[i]
			a.ln1, a.mean1, a.rstd1 = f(rows*d), f(rows), f(rows)
			a.qkv, a.probs, a.att = f(rows*3*inner), f(b*heads*t*t), f(rows*inner)
			a.mid = f(rows * d)
			a.ln2, a.mean2, a.rstd2 = f(rows*d), f(rows), f(rows)
			a.hidden, a.act = f(rows*hdim), f(rows*hdim)
			a.out = f(rows * d)
			in = a.out
		}
		return acts
	}
	p.encPad = f((1 + re) * D)
	p.enc = blocks(m.Layout.Spans.Enc, p.encPad.Sub(D, re*D), k, D, c.Heads, c.DimHead, c.Hidden())
	p.encOutPad, p.encMean, p.encRstd = f((1+re)*D), f(re), f(re)
	p.decInPad = p.encOutPad
	if c.EncToDec() {
		p.decInPad = f((1 + re) * Dd)
	}
	p.decSeqPad = f((1 + rd) * Dd)
	p.dec = blocks(m.Layout.Spans.Dec, p.decSeqPad.Sub(Dd, rd*Dd), l, Dd, c.DecoderHeads, c.DecoderDimHead, c.DecoderHidden())
	p.decOut, p.decMean, p.decRstd = f(rd*Dd), f(rd), f(rd)
	p.predPad, p.loss = f((1+rd)*PD), f(1)

	p.dpredPad, p.ddecSeqPad = f((1+rd)*PD), f((1+rd)*Dd)
	p.ddecInPad = f((1 + re) * Dd)
	p.dencPad, p.demb, p.dlin = f((1+re)*D), f(rp*D), f(rp*D)
	p.dpln, p.dscr = f(rp*PD), f(rp*PD)
	maxRowsD := max(re*D, rd*Dd)
	maxInner := max(re*c.Inner(), rd*c.DecoderInner())
	maxHid := max(re*c.Hidden(), rd*c.DecoderHidden())
	p.dln, p.datt, p.dqkv = f(maxRowsD), f(maxInner), f(3*maxInner)
	p.dhid, p.dact, p.dfr = f(maxHid), f(maxHid), f(max(D, Dd))
	return p, nil
}

// SetInputs uploads a batch of images (B, C, H, W) and its masking (from
// MaskFromNoise: B, L, K per sample).
func (p *Pass) SetInputs(images []float32, mk model.Masking) error {
	c := p.m.Config
	if len(images) != p.images.Len {
		return fmt.Errorf("set inputs: %d pixel values, want %d (B=%d, C=%d, %dx%d)", len(images), p.images.Len, p.B, c.Channels, c.ImageSize, c.ImageSize)
	}
	if mk.B != p.B || mk.L != c.NumPatches() || mk.K != p.K {
		return fmt.Errorf("set inputs: masking B=%d L=%d K=%d, pass expects B=%d L=%d K=%d", mk.B, mk.L, mk.K, p.B, c.NumPatches(), p.K)
	}
	keep, restore := flatten(mk)
	k := p.m.K
	k.Write(p.images, images)
	k.WriteIndex(p.keep, keep)
	k.WriteIndex(p.restore, restore)
	k.Write(p.mask, mk.Mask)
	return nil
}

// Forward runs the encoder, decoder and loss on the inputs set by
// SetInputs; read the results with Loss and Prediction.
func (p *Pass) Forward() {
	m, k, c := p.m, p.m.K, p.m.Config
	s := m.Layout.Spans
	l, D, Dd, PD := c.NumPatches(), c.Dim, c.DecoderDim, c.PatchDim()
	const eps = LayerNormEps
	re, rd := p.B*p.K, p.B*l

	k.Patchify(p.patches, p.images, p.B, c.Channels, c.ImageSize, c.ImageSize, c.PatchSize)
	k.LayerNorm(p.pln, p.pMean1, p.pRstd1, p.patches, m.P(s.PatchLN1W), m.P(s.PatchLN1B), rd, PD, eps)
	m.Linear(p.plin, p.pln, s.PatchW, s.PatchB, rd, PD, D, false)
	k.LayerNorm(p.emb, p.pMean2, p.pRstd2, p.plin, m.P(s.PatchLN2W), m.P(s.PatchLN2B), rd, D, eps)
	k.AddBroadcast(p.emb, m.P(s.Pos).Sub(D, l*D), p.B)
	k.GatherTokens(p.encPad, p.emb, p.first, p.keep, 1, rd, re, D)
	for i := range p.enc {
		p.blockForward(&p.enc[i])
	}
	encOut := p.encOutPad.Sub(D, re*D)
	k.LayerNorm(encOut, p.encMean, p.encRstd, p.enc[len(p.enc)-1].out, m.P(s.NormW), m.P(s.NormB), re, D, eps)

	if c.EncToDec() {
		m.Linear(p.decInPad.Sub(Dd, re*Dd), encOut, s.EncToDecW, s.EncToDecB, re, D, Dd, false)
	}
	k.Unshuffle(p.decSeqPad, p.decInPad, m.P(s.MaskToken), p.restore, 1, rd, re, Dd)
	k.AddBroadcast(p.dec[0].x, m.P(s.DecPos).Sub(0, l*Dd), p.B)
	for i := range p.dec {
		p.blockForward(&p.dec[i])
	}
	k.LayerNorm(p.decOut, p.decMean, p.decRstd, p.dec[len(p.dec)-1].out, m.P(s.DecNormW), m.P(s.DecNormB), rd, Dd, eps)
	m.Linear(p.predPad.Sub(PD, rd*PD), p.decOut, s.PixW, s.PixB, rd, Dd, PD, false)
	k.MaskedMSE(p.loss, p.predPad, p.patches, p.mask, 1, rd, PD, p.numMasked)
}

func (p *Pass) blockForward(a *blockActs) {
	k, m, w := p.m.K, p.m, a.params
	k.LayerNorm(a.ln1, a.mean1, a.rstd1, a.x, m.P(w.LN1W), m.P(w.LN1B), a.rows, a.d, LayerNormEps)
	m.Linear(a.qkv, a.ln1, w.QKVW, model.Span{}, a.rows, a.d, 3*a.inner, false)
	k.Attention(a.att, a.probs, a.qkv, p.B, a.t, a.heads, a.inner/a.heads)
	k.Copy(a.mid, a.x)
	if w.Proj {
		m.Linear(a.mid, a.att, w.OutW, w.OutB, a.rows, a.inner, a.d, true)
	} else {
		k.Add(a.mid, a.att)
	}
	k.LayerNorm(a.ln2, a.mean2, a.rstd2, a.mid, m.P(w.LN2W), m.P(w.LN2B), a.rows, a.d, LayerNormEps)
	k.MatMulGELU(a.hidden, a.act, a.ln2, m.P(w.FC1W), m.P(w.FC1B), backend.MatMul{M: a.rows, N: a.hdim, K: a.d, TransB: true})
	k.Copy(a.out, a.mid)
	m.Linear(a.out, a.act, w.FC2W, w.FC2B, a.rows, a.hdim, a.d, true)
}

// blockBackward turns dres, the gradient of the block output, into the
// gradient of the block input, in place, writing the block's gradients.
func (p *Pass) blockBackward(a *blockActs, dres backend.View) {
	k, m, w := p.m.K, p.m, a.params
	n, ni, nh := a.rows*a.d, a.rows*a.inner, a.rows*a.hdim
	dln, dqkv, dhid, dact := p.dln.Sub(0, n), p.dqkv.Sub(0, 3*ni), p.dhid.Sub(0, nh), p.dact.Sub(0, nh)

	// FeedForward: out = mid + net.4(gelu(net.1(net.0(mid)))).
	m.LinearBackward(dact, dres, a.act, w.FC2W, w.FC2B, a.rows, a.hdim, a.d, false)
	k.GELUBackward(dhid, dact, a.hidden)
	m.LinearBackward(dln, dhid, a.ln2, w.FC1W, w.FC1B, a.rows, a.d, a.hdim, false)
	k.LayerNormBackward(dres, m.G(w.LN2W), m.G(w.LN2B), dln, a.mid, a.mean2, a.rstd2, m.P(w.LN2W), a.rows, a.d, true)

	// Attention: mid = x + to_out(attn(to_qkv(norm(x)))).
	datt := dres // to_out is the identity: inner == d
	if w.Proj {
		datt = p.datt.Sub(0, ni)
		m.LinearBackward(datt, dres, a.att, w.OutW, w.OutB, a.rows, a.inner, a.d, false)
	}
	k.AttentionBackward(dqkv, datt, a.qkv, a.probs, p.B, a.t, a.heads, a.inner/a.heads)
	m.LinearBackward(dln, dqkv, a.ln1, w.QKVW, model.Span{}, a.rows, a.d, 3*a.inner, false)
	k.LayerNormBackward(dres, m.G(w.LN1W), m.G(w.LN1B), dln, a.x, a.mean1, a.rstd1, m.P(w.LN1W), a.rows, a.d, true)
}

// Backward computes the gradient of the loss with respect to every
// parameter the MAE uses into the model's gradient buffer (overwriting it:
// the unused tensors and the unused position rows keep a zero gradient).
// It needs the activations of the Forward call before it.
func (p *Pass) Backward() {
	m, k, c := p.m, p.m.K, p.m.Config
	s := m.Layout.Spans
	l, D, Dd, PD := c.NumPatches(), c.Dim, c.DecoderDim, c.PatchDim()
	re, rd := p.B*p.K, p.B*l

	k.MaskedMSEBackward(p.dpredPad, p.predPad, p.patches, p.mask, 1, rd, PD, p.numMasked, 1)
	dn := p.dln.Sub(0, rd*Dd)
	m.LinearBackward(dn, p.dpredPad.Sub(PD, rd*PD), p.decOut, s.PixW, s.PixB, rd, Dd, PD, false)
	dseq := p.ddecSeqPad.Sub(Dd, rd*Dd)
	k.LayerNormBackward(dseq, m.G(s.DecNormW), m.G(s.DecNormB), dn, p.dec[len(p.dec)-1].out, p.decMean, p.decRstd, m.P(s.DecNormW), rd, Dd, false)
	for i := len(p.dec) - 1; i >= 0; i-- {
		p.blockBackward(&p.dec[i], dseq)
	}
	k.ColumnSum(m.G(s.DecPos).Sub(0, l*Dd), dseq, p.B, false)
	k.Zero(m.G(s.DecPos).Sub(l*Dd, Dd))
	k.UnshuffleBackward(p.ddecInPad, m.G(s.MaskToken), p.ddecSeqPad, p.keep, p.mask, 1, rd, re, Dd)

	dEncOut := p.ddecInPad.Sub(Dd, re*Dd) // enc_to_dec is the identity: D == Dd
	if c.EncToDec() {
		dEncOut = p.dln.Sub(0, re*D)
		m.LinearBackward(dEncOut, p.ddecInPad.Sub(Dd, re*Dd), p.encOutPad.Sub(D, re*D), s.EncToDecW, s.EncToDecB, re, D, Dd, false)
	}
	dres := p.dencPad.Sub(D, re*D)
	k.LayerNormBackward(dres, m.G(s.NormW), m.G(s.NormB), dEncOut, p.enc[len(p.enc)-1].out, p.encMean, p.encRstd, m.P(s.NormW), re, D, false)
	for i := len(p.enc) - 1; i >= 0; i-- {
		p.blockBackward(&p.enc[i], dres)
	}
	k.GatherTokensBackward(p.demb, p.dfr.Sub(0, D), p.dencPad, p.keep, 1, rd, re, D)
	k.ColumnSum(m.G(s.Pos).Sub(D, l*D), p.demb, p.B, false)
	k.Zero(m.G(s.Pos).Sub(0, D))
	k.LayerNormBackward(p.dlin, m.G(s.PatchLN2W), m.G(s.PatchLN2B), p.demb, p.plin, p.pMean2, p.pRstd2, m.P(s.PatchLN2W), rd, D, false)
	m.LinearBackward(p.dpln, p.dlin, p.pln, s.PatchW, s.PatchB, rd, PD, D, false)
	k.LayerNormBackward(p.dscr, m.G(s.PatchLN1W), m.G(s.PatchLN1B), p.dpln, p.patches, p.pMean1, p.pRstd1, m.P(s.PatchLN1W), rd, PD, false)
}

// Loss reads the masked-patch loss of the last Forward.
func (p *Pass) Loss() (float32, error) {
	var out [1]float32
	if err := p.m.K.Read(p.loss, out[:]); err != nil {
		return 0, fmt.Errorf("read loss: %w", err)
	}
	return out[0], nil
}

// Prediction reads to_pixels of every decoded token: (B, L, P*P*C).
func (p *Pass) Prediction() ([]float32, error) {
	c := p.m.Config
	n := p.B * c.NumPatches() * c.PatchDim()
	out := make([]float32, n)
	if err := p.m.K.Read(p.predPad.Sub(c.PatchDim(), n), out); err != nil {
		return nil, fmt.Errorf("read prediction: %w", err)
	}
	return out, nil
}
