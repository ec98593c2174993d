package ui

import "webmae/engine/harness"

// selfTestTutorialReferences are the tutorial family's reference models
// (testdata/tutorial, copied into web/reference/ by scripts/build-web.sh):
// the shared one and make_reference.py's identity shape. Each has one
// weights file (the tutorial's keys) and no AdamW steps.
var selfTestTutorialReferences = []string{"tutorial_mae", "tutorial_mae_identity"}

// fetchTutorialReferences downloads the tutorial family's reference cases
// with get (a file of SelfTestReferenceURL by name).
func fetchTutorialReferences(get func(name string) ([]byte, error)) ([]harness.ReferenceFiles, error) {
	var out []harness.ReferenceFiles
	for _, n := range selfTestTutorialReferences {
		var files [3][]byte
		for i, suffix := range []string{".config.json", ".safetensors", ".io.safetensors"} {
			b, err := get(n + suffix)
			if err != nil {
				return nil, err
			}
			files[i] = b
		}
		out = append(out, harness.ReferenceFiles{Name: n + ".safetensors", Config: files[0], Weights: files[1], IO: files[2]})
	}
	return out, nil
}
