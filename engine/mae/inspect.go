package mae

import (
	"fmt"

	"webmae/engine/backend"
)

// Stack names one of the two transformer stacks.
type Stack int

// The encoder (1+K tokens: CLS, then the kept patches in keep order) and
// the decoder (1+L tokens: CLS, then every patch in original order, mask
// tokens at the removed patches).
const (
	Encoder Stack = iota
	Decoder
)

func (s Stack) String() string {
	if s == Encoder {
		return "encoder"
	}
	return "decoder"
}

func (p *Pass) stack(s Stack) []blockActs {
	if s == Encoder {
		return p.enc
	}
	return p.dec
}

// Layers is the number of blocks of a stack.
func (p *Pass) Layers(s Stack) int { return len(p.stack(s)) }

// AttentionShape is (heads, tokens) of a stack's attention.
func (p *Pass) AttentionShape(s Stack) (heads, tokens int) {
	st := p.stack(s)
	if len(st) == 0 {
		return 0, 0
	}
	return st[0].heads, st[0].t
}

// AttentionProbs reads the softmax probabilities (B, heads, T, T) that the
// Attention kernel of block layer of stack s wrote in the last forward
// pass: row i is query token i, column j key token j.
func (p *Pass) AttentionProbs(s Stack, layer int) ([]float32, error) {
	st := p.stack(s)
	if layer < 0 || layer >= len(st) {
		return nil, fmt.Errorf("attention probabilities: %s layer %d of %d", s, layer, len(st))
	}
	return p.readView(st[layer].probs, "attention probabilities")
}

// EncoderInput reads the encoder's input tokens (B, 1+K, D): patch
// embeddings plus position embeddings of the kept patches, CLS first.
func (p *Pass) EncoderInput() ([]float32, error) { return p.readView(p.encIn(), "encoder input") }

// EncoderOutput reads the encoder output after its final layer norm
// (B, 1+K, D), Hugging Face's last_hidden_state.
func (p *Pass) EncoderOutput() ([]float32, error) { return p.readView(p.encOut, "encoder output") }

// DecoderInput reads the decoder's input sequence (B, 1+L, Dd): the
// embedded encoder tokens with mask tokens put back at the removed
// patches (original patch order), plus decoder position embeddings.
func (p *Pass) DecoderInput() ([]float32, error) {
	if len(p.dec) == 0 {
		return nil, fmt.Errorf("decoder input: an encoder-only pass has no decoder")
	}
	return p.readView(p.decTokens(), "decoder input")
}

// Target reads the loss target (B, L, P*P*C): the patches, normalised per
// patch for norm_pix_loss models.
func (p *Pass) Target() ([]float32, error) { return p.readView(p.target, "target") }

func (p *Pass) readView(v backend.View, what string) ([]float32, error) {
	out := make([]float32, v.Len)
	if err := p.m.K.Read(v, out); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// EncoderPass runs the encoder alone on every patch of a batch (no
// masking), for embeddings. The training and reconstruction path (Pass)
// always masks at least one patch; this one keeps all L.
type EncoderPass struct {
	p *Pass
}

// NewEncoderPass allocates the encoder activations for batches of b images.
func (m *Model) NewEncoderPass(b int) (*EncoderPass, error) {
	c := m.Config
	if b < 1 {
		return nil, fmt.Errorf("new encoder pass: batch %d < 1", b)
	}
	l, D, PD := c.NumPatches(), c.HiddenSize, c.PatchDim()
	kn := m.K
	f := func(n int) backend.View { return backend.Whole(kn.NewBuffer(n)) }
	p := &Pass{m: m, B: b, K: l}
	p.images = f(b * c.NumChannels * c.ImageSize * c.ImageSize)
	p.patches = f(b * l * PD)
	p.keep = backend.Whole(kn.NewIndexBuffer(b * l))
	p.emb, p.first = f(b*l*D), f(D)
	te := 1 + l
	p.enc = newBlocks(f, b, m.Layout.Spans.Enc, f(b*te*D), te, D, c.IntermediateSize, c.NumAttentionHeads)
	p.encOut, p.encMean, p.encRstd = f(b*te*D), f(b*te), f(b*te)
	keep := make([]int32, b*l)
	for i := range keep {
		keep[i] = int32(i % l)
	}
	kn.WriteIndex(p.keep, keep)
	return &EncoderPass{p: p}, nil
}

// Run encodes images (B, C, H, W, normalised) and returns the encoder
// output (B, 1+L, D): CLS, then every patch in order.
func (e *EncoderPass) Run(images []float32) ([]float32, error) {
	c := e.p.m.Config
	if len(images) != e.p.images.Len {
		return nil, fmt.Errorf("encode: %d pixel values, want %d (B=%d, C=%d, %dx%d)", len(images), e.p.images.Len, e.p.B, c.NumChannels, c.ImageSize, c.ImageSize)
	}
	e.p.m.K.Write(e.p.images, images)
	e.p.forwardEncoder()
	return e.p.EncoderOutput()
}

// AttentionProbs reads the encoder attention probabilities
// (B, heads, 1+L, 1+L) of block layer from the last Run.
func (e *EncoderPass) AttentionProbs(layer int) ([]float32, error) {
	return e.p.AttentionProbs(Encoder, layer)
}

// Tokens is the number of tokens per image of the encoder output, 1+L.
func (e *EncoderPass) Tokens() int { return 1 + e.p.K }
