// commands.js: the JavaScript side of engine/gpu's replayed command lists
// (replay_js.go). It is evaluated once, as a function of the opcode table
// (replay_ops.go passes its Go constants), and returns {replay, profile}:
//
//   replay(device, queue, objs, opBytes, nWords, arena, arenaBytes, arenaLen)
//     uploads arenaLen bytes of kernel parameters into the uniform arena,
//     encodes every command of the list into one command encoder and
//     submits it.
//   profile(the same arguments) replays the list one dispatch per submit,
//     waiting for each (queue.onSubmittedWorkDone), and resolves to the wall
//     time of every dispatch in ms.
//
// The list is nWords uint32 words in opBytes; objs holds the pipelines, bind
// groups and buffers the words name by index. Commands:
//   PIPELINE index | BIND_GROUP index, dynamic offset | DISPATCH x, y |
//   COPY src index, src offset lo, hi, dst index, dst offset lo, hi, size lo, hi
// (64-bit byte counts as two words).
(op) => {
	const { PIPELINE, BIND_GROUP, DISPATCH, COPY } = op;
	const u64 = (ops, i) => ops[i] + ops[i + 1] * 4294967296;
	const copy = (enc, objs, ops, i) =>
		enc.copyBufferToBuffer(objs[ops[i + 1]], u64(ops, i + 2), objs[ops[i + 4]], u64(ops, i + 5), u64(ops, i + 7));
	const bad = (what, ops, i) => new Error('webmae ' + what + ': bad op ' + ops[i] + ' at word ' + i);

	const replay = (device, queue, objs, opBytes, nWords, arena, arenaBytes, arenaLen) => {
		if (arenaLen > 0) queue.writeBuffer(arena, 0, arenaBytes, 0, arenaLen);
		const ops = new Uint32Array(opBytes.buffer, opBytes.byteOffset, nWords);
		const enc = device.createCommandEncoder({ label: 'webmae step' });
		let pass = null;
		const open = () => pass || (pass = enc.beginComputePass({ label: 'webmae kernels' }));
		for (let i = 0; i < nWords;) {
			switch (ops[i]) {
			case PIPELINE: open().setPipeline(objs[ops[i + 1]]); i += 2; break;
			case BIND_GROUP: open().setBindGroup(0, objs[ops[i + 1]], ops, i + 2, 1); i += 3; break;
			case DISPATCH: open().dispatchWorkgroups(ops[i + 1], ops[i + 2]); i += 3; break;
			case COPY:
				if (pass) { pass.end(); pass = null; }
				copy(enc, objs, ops, i);
				i += 9; break;
			default: throw bad('replay', ops, i);
			}
		}
		if (pass) pass.end();
		queue.submit([enc.finish()]);
	};

	const profile = async (device, queue, objs, opBytes, nWords, arena, arenaBytes, arenaLen) => {
		if (arenaLen > 0) queue.writeBuffer(arena, 0, arenaBytes, 0, arenaLen);
		const ops = new Uint32Array(opBytes.buffer, opBytes.byteOffset, nWords);
		await queue.onSubmittedWorkDone();
		const times = [];
		let pipe = null, group = null;
		const off = new Uint32Array(1);
		for (let i = 0; i < nWords;) {
			const enc = device.createCommandEncoder();
			switch (ops[i]) {
			case PIPELINE: pipe = objs[ops[i + 1]]; i += 2; continue;
			case BIND_GROUP: group = objs[ops[i + 1]]; off[0] = ops[i + 2]; i += 3; continue;
			case DISPATCH: {
				const pass = enc.beginComputePass();
				pass.setPipeline(pipe);
				pass.setBindGroup(0, group, off);
				pass.dispatchWorkgroups(ops[i + 1], ops[i + 2]);
				pass.end();
				const t = performance.now();
				queue.submit([enc.finish()]);
				await queue.onSubmittedWorkDone();
				times.push(performance.now() - t);
				i += 3; continue;
			}
			case COPY:
				copy(enc, objs, ops, i);
				queue.submit([enc.finish()]);
				i += 9; continue;
			default: throw bad('profile', ops, i);
			}
		}
		return times;
	};

	return { replay, profile };
}
