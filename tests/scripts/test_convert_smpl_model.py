#!/usr/bin/env python3
"""Self-test of scripts/convert_smpl_model.py without real SMPL data (standard library only).

    python3 tests/scripts/test_convert_smpl_model.py      # exit 0 on success

Builds a small synthetic SMPL-like model (V vertices, SMPL's 24-joint tree) and writes it
  * as an .npz (np.savez layout: one .npy member per key, written here by hand),
  * as a pickle shaped like the old SMPL .pkl files: numpy arrays, a scipy.sparse csc_matrix
    J_regressor, chumpy Ch objects, the root parent 4294967295. It is produced with stand-in
    `numpy`, `scipy` and `chumpy` modules written to a temporary folder, so the pickle names
    the same classes the real files do (numpy.core.multiarray._reconstruct, numpy.dtype,
    scipy.sparse.csc.csc_matrix, chumpy.ch.Ch);
then runs the converter and checks J = J_regressor · v, the top-4 renormalised weights, --betas,
--check and the error exits (code 2, message naming the field).
"""

import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "scripts", "convert_smpl_model.py")

PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
V = 40
NB = 5   # shape components

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args, env=None):
    p = subprocess.run([sys.executable, SCRIPT] + [str(a) for a in args],
                       capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


# ----------------------------------------------------------------------------------------------
# The synthetic model

rng = random.Random(7)
v_template = [[rng.uniform(-0.5, 0.5), rng.uniform(-1.0, 0.8), rng.uniform(-0.2, 0.2)]
              for _ in range(V)]
weights = []
for i in range(V):
    row = [0.0] * 24
    for j in rng.sample(range(24), 6):       # 6 influences: the converter keeps the top 4
        row[j] = rng.uniform(0.01, 1.0)
    s = sum(row)
    weights.append([w / s for w in row])
# A sparse regressor: each joint averages 3 vertices.
J_reg = [[0.0] * V for _ in range(24)]
for j in range(24):
    for i in rng.sample(range(V), 3):
        J_reg[j][i] = 1.0 / 3.0
shapedirs = [[[rng.uniform(-0.01, 0.01) for _ in range(NB)] for _ in range(3)] for _ in range(V)]
kintree = [[4294967295] + PARENTS[1:], list(range(24))]


def expected(betas=None):
    v = [list(p) for p in v_template]
    if betas:
        for i in range(V):
            for c in range(3):
                v[i][c] += sum(shapedirs[i][c][k] * b for k, b in enumerate(betas))
    J = [[sum(J_reg[j][i] * v[i][c] for i in range(V)) for c in range(3)] for j in range(24)]
    sj, sw = [], []
    for i in range(V):
        order = sorted(range(24), key=lambda j: (-weights[i][j], j))[:4]
        s = sum(weights[i][j] for j in order)
        sj.append(order)
        sw.append([weights[i][j] / s for j in order])
    return v, J, sj, sw


def close(a, b, tol=1e-6):
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(close(x, y, tol)
                                                                for x, y in zip(a, b))
    return abs(a - b) <= tol * max(1.0, abs(b))


def check_template(path, betas=None, label=""):
    with open(path) as f:
        doc = json.load(f)
    v, J, sj, sw = expected(betas)
    check(doc["format"] == "gstrain-body-template" and doc["version"] == 1
          and doc["joint_count"] == 24, label + ": header")
    check(doc["parents"] == PARENTS, label + ": parents")
    check(close(doc["vertices"], v), label + ": vertices")
    check(close(doc["joints"], J), label + ": joints = J_regressor · v")
    check(doc["skin_joints"] == sj, label + ": skin_joints are the top 4")
    check(close(doc["skin_weights"], sw), label + ": skin_weights renormalised")
    check(all(abs(sum(w) - 1) < 1e-6 for w in doc["skin_weights"]), label + ": weights sum 1")


# ---- .npy / .npz writer


def npy_bytes(shape, flat, descr="<f8"):
    fmt = {"<f8": "d", "<f4": "f", "<i8": "q", "<u4": "I"}[descr]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (
        descr, "(" + "".join("%d," % s for s in shape) + ")" if len(shape) == 1
        else "(" + ", ".join(str(s) for s in shape) + ")")
    header = header.encode("latin1")
    pad = 64 - (10 + len(header) + 1) % 64
    header += b" " * pad + b"\n"
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header
            + struct.pack("<%d%s" % (len(flat), fmt), *flat))


def flatten(x):
    if isinstance(x, list):
        out = []
        for e in x:
            out.extend(flatten(e))
        return out
    return [x]


def write_npz(path, arrays, compress=False):
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", mode) as z:
        for name, (shape, data, descr) in arrays.items():
            if isinstance(data, bytes):
                z.writestr(name + ".npy", data)
            else:
                z.writestr(name + ".npy", npy_bytes(shape, flatten(data), descr))


def model_arrays(kt=None):
    kt = kt or kintree
    return {
        "v_template": ((V, 3), v_template, "<f8"),
        "weights": ((V, 24), weights, "<f4"),
        "J_regressor": ((24, V), J_reg, "<f8"),
        "kintree_table": ((2, len(kt[0])), kt, "<i8"),
        "shapedirs": ((V, 3, NB), shapedirs, "<f8"),
    }


# ---- stand-in numpy / scipy / chumpy modules for writing an SMPL-like pickle

FAKE_NUMPY_INIT = '''
class dtype(object):
    def __init__(self, s):
        self.s = s
    def __reduce__(self):
        order = '|' if self.s[0] in 'Ob' else '<'
        return (dtype, (self.s, False, True), (3, order, None, None, None, -1, -1, 0))
'''
FAKE_NUMPY_CORE_MULTIARRAY = '''
import struct
from numpy import dtype
def _reconstruct(*a):
    raise RuntimeError("stand-in")
class ndarray(object):
    def __init__(self, shape, flat, code="f8", latin1=False, fortran=False):
        self.shape, self.flat, self.code, self.latin1, self.fortran = shape, flat, code, latin1, fortran
    def __reduce__(self):
        if self.code[0] == "O":
            raw = list(self.flat)
        else:
            fmt = {"f8": "d", "f4": "f", "i8": "q", "u4": "I"}[self.code]
            raw = struct.pack("<%d%s" % (len(self.flat), fmt), *self.flat)
            if self.latin1:          # what a Python-2 str looks like after encoding='latin1'
                raw = raw.decode("latin1")
        return (_reconstruct, (ndarray, (0,), b"b"),
                (1, tuple(self.shape), dtype(self.code), self.fortran, raw))
'''
FAKE_SCIPY_CSC = '''
class csc_matrix(object):
    pass
'''
FAKE_CHUMPY_CH = '''
class Ch(object):
    def __init__(self, x):
        self.x = x
        self._dirty_vars = set()
    def __getstate__(self):
        return dict(self.__dict__)
'''
FAKE_CHUMPY_REORDERING = '''
class Select(object):
    def __init__(self, a, idxs):
        self.a, self.idxs = a, idxs
    def __getstate__(self):
        return dict(self.__dict__)
'''

PICKLE_WRITER = r'''
import pickle, sys, json
from numpy.core.multiarray import ndarray
from scipy.sparse.csc import csc_matrix
from chumpy.ch import Ch
from chumpy.reordering import Select

spec = json.load(open(sys.argv[1]))
out = sys.argv[2]
variant = sys.argv[3]
V = spec["V"]

def arr(shape, data, code="f8", **kw):
    flat = []
    def rec(x):
        if isinstance(x, list):
            for e in x: rec(e)
        else:
            flat.append(x)
    rec(data)
    return ndarray(shape, flat, code, **kw)

# J_regressor as scipy's csc_matrix (column-compressed): the pickled __dict__ of scipy.
J = spec["J_regressor"]
data, indices, indptr = [], [], [0]
for c in range(V):
    for r in range(24):
        if J[r][c] != 0.0:
            data.append(J[r][c]); indices.append(r)
    indptr.append(len(data))
jr = csc_matrix()
jr.__dict__.update({"data": arr((len(data),), data), "indices": arr((len(indices),), indices, "i8"),
                    "indptr": arr((len(indptr),), indptr, "i8"), "_shape": (24, V),
                    "maxprint": 50, "format": "csc"})
# weights stored in Fortran order, as raw latin1 'str' (Python-2 style)
W = spec["weights"]
wf = [W[i][j] for j in range(24) for i in range(V)]
model = {
    "v_template": Ch(arr((V, 3), spec["v_template"], latin1=True)),
    "weights": ndarray((V, 24), wf, "f8", latin1=True, fortran=True),
    "J_regressor": jr,
    "kintree_table": arr((2, 24), spec["kintree"], "i8"),
    "shapedirs": Ch(arr((V, 3, spec["NB"]), spec["shapedirs"])),
    "bs_type": "lrotmin",
    "f": arr((2, 3), [[0, 1, 2], [1, 2, 3]], "u4"),
}
if variant == "unreadable_chumpy":
    model["v_template"] = Select(Ch(arr((V, 3), spec["v_template"])), [0, 1])
if variant == "npy_object":
    # an object .npy member holding the sparse matrix (np.savez of the pickle's dict)
    obj = ndarray((), [jr], "O8")
    sys.stdout.buffer.write(pickle.dumps(obj, protocol=2))
    sys.exit(0)
with open(out, "wb") as f:
    pickle.dump(model, f, protocol=2)
'''


def make_fake_modules(d):
    files = {
        "numpy/__init__.py": FAKE_NUMPY_INIT,
        "numpy/core/__init__.py": "",
        "numpy/core/multiarray.py": FAKE_NUMPY_CORE_MULTIARRAY,
        "scipy/__init__.py": "",
        "scipy/sparse/__init__.py": "",
        "scipy/sparse/csc.py": FAKE_SCIPY_CSC,
        "chumpy/__init__.py": "",
        "chumpy/ch.py": FAKE_CHUMPY_CH,
        "chumpy/reordering.py": FAKE_CHUMPY_REORDERING,
        "write_pickle.py": PICKLE_WRITER,
    }
    for rel, text in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


def write_fake_pickle(fake_dir, out, variant="ok"):
    spec = {"V": V, "NB": NB, "v_template": v_template, "weights": weights,
            "J_regressor": J_reg, "kintree": kintree, "shapedirs": shapedirs}
    spec_path = os.path.join(fake_dir, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    env = dict(os.environ, PYTHONPATH=fake_dir)
    p = subprocess.run([sys.executable, os.path.join(fake_dir, "write_pickle.py"), spec_path,
                        out, variant], capture_output=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("writing the synthetic pickle failed: " + p.stderr.decode())
    return p.stdout


def main():
    with tempfile.TemporaryDirectory() as tmp:
        fake = os.path.join(tmp, "fake")
        make_fake_modules(fake)
        # The converter must run without the stand-in modules on its path.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

        # 1. .npz, mean shape
        npz = os.path.join(tmp, "model.npz")
        write_npz(npz, model_arrays())
        out = os.path.join(tmp, "t_npz.json")
        rc, so, se = run(npz, out, env=env)
        check(rc == 0, "npz: exit 0 (%d: %s)" % (rc, se.strip()))
        if rc == 0:
            check_template(out, label="npz")
            rc2, so2, se2 = run("--check", out, env=env)
            check(rc2 == 0 and "valid" in so2, "--check accepts the written file (%s)" % se2)

        # 2. .npz (compressed) with --betas
        npzc = os.path.join(tmp, "model_c.npz")
        write_npz(npzc, model_arrays(), compress=True)
        betas = [0.5, -1.0, 2.0]
        out_b = os.path.join(tmp, "t_betas.json")
        rc, so, se = run(npzc, out_b, "--betas", *betas, env=env)
        check(rc == 0, "npz --betas: exit 0 (%s)" % se.strip())
        if rc == 0:
            check_template(out_b, betas, label="npz --betas")
        rc, so, se = run(npzc, out_b, "--betas", *([0.1] * (NB + 1)), env=env)
        check(rc == 2 and "--betas" in se, "too many betas: exit 2 naming --betas (%s)" % se)

        # 3. an SMPL-like pickle (numpy arrays, csc J_regressor, chumpy Ch, py2 latin1 data)
        pkl = os.path.join(tmp, "SMPL_NEUTRAL.pkl")
        write_fake_pickle(fake, pkl)
        out_p = os.path.join(tmp, "t_pkl.json")
        rc, so, se = run(pkl, out_p, "--betas", *betas, env=env)
        check(rc == 0, "pkl: exit 0 (%s)" % se.strip())
        if rc == 0:
            check_template(out_p, betas, label="pkl")

        # 4. an .npz whose J_regressor member is an object array holding the sparse matrix
        obj_pickle = write_fake_pickle(fake, os.path.join(tmp, "unused"), "npy_object")
        header = b"{'descr': '|O', 'fortran_order': False, 'shape': (), }"
        header += b" " * (64 - (10 + len(header) + 1) % 64) + b"\n"
        obj_npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + obj_pickle
        arrays = model_arrays()
        arrays["J_regressor"] = (None, obj_npy, None)
        npzo = os.path.join(tmp, "model_obj.npz")
        write_npz(npzo, arrays)
        out_o = os.path.join(tmp, "t_obj.json")
        rc, so, se = run(npzo, out_o, env=env)
        check(rc == 0, "npz with a pickled sparse J_regressor: exit 0 (%s)" % se.strip())
        if rc == 0:
            check_template(out_o, label="npz object member")

        # 5. errors
        bad = [list(r) for r in kintree]
        bad[0][13] = 6
        npzk = os.path.join(tmp, "bad_kintree.npz")
        write_npz(npzk, model_arrays(bad))
        rc, so, se = run(npzk, os.path.join(tmp, "x.json"), env=env)
        check(rc == 2 and "joint 13 (left_collar) has parent 6" in se,
              "wrong kintree: exit 2 naming the joint (%s)" % se.strip())
        check(not os.path.exists(os.path.join(tmp, "x.json")), "nothing written on error")

        h52 = [[4294967295] + [0] * 51, list(range(52))]
        npzh = os.path.join(tmp, "smplh.npz")
        arrays = model_arrays(h52)
        write_npz(npzh, arrays)
        rc, so, se = run(npzh, os.path.join(tmp, "x.json"), env=env)
        check(rc == 2 and ("52 joints" in se or "weights" in se),
              "52-joint model: exit 2 (%s)" % se.strip())

        rc, so, se = run(os.path.join(tmp, "missing.pkl"), os.path.join(tmp, "x.json"),
                         env=env)
        check(rc == 2 and "file not found" in se, "missing file: exit 2 (%s)" % se.strip())

        junk = os.path.join(tmp, "junk.pkl")
        with open(junk, "wb") as f:
            f.write(b"this is not a pickle")
        rc, so, se = run(junk, os.path.join(tmp, "x.json"), env=env)
        check(rc == 2 and "junk.pkl" in se, "junk file: exit 2 (%s)" % se.strip())

        pklu = os.path.join(tmp, "chumpy_select.pkl")
        write_fake_pickle(fake, pklu, "unreadable_chumpy")
        rc, so, se = run(pklu, os.path.join(tmp, "x.json"), env=env)
        check(rc == 2 and "v_template" in se and "chumpy" in se and "clean_ch.py" in se,
              "unreadable chumpy object: exit 2 with the conversion recipe (%s)" % se.strip())

        arrays = model_arrays()
        del arrays["J_regressor"]
        npzm = os.path.join(tmp, "no_jreg.npz")
        write_npz(npzm, arrays)
        rc, so, se = run(npzm, os.path.join(tmp, "x.json"), env=env)
        check(rc == 2 and "J_regressor" in se, "missing key: exit 2 naming it (%s)" % se)

        # 6. --check on broken templates
        if os.path.exists(out):
            with open(out) as f:
                good = json.load(f)

            def broken(name, mutate, expect):
                doc = json.loads(json.dumps(good))
                mutate(doc)
                p = os.path.join(tmp, name + ".json")
                with open(p, "w") as f:
                    json.dump(doc, f)          # allow_nan: NaN is written as the token NaN
                rc, so, se = run("--check", p, env=env)
                check(rc == 2 and expect in se,
                      "--check %s: exit 2 naming %r (%d: %s)" % (name, expect, rc, se.strip()))

            def set_weight(d):
                d["skin_weights"][3][0] += 0.1

            def set_parent(d):
                d["parents"][16] = 12

            def set_nan(d):
                d["vertices"][5][1] = float("nan")

            def set_joint(d):
                d["skin_joints"][2][1] = 24

            def short_rows(d):
                d["skin_weights"].pop()

            def drop_joints(d):
                del d["joints"]

            def bad_format(d):
                d["format"] = "something"

            broken("weightsum", set_weight, "skin_weights[3]")
            broken("parent", set_parent, "parents[16]")
            broken("nan", set_nan, "NaN")
            broken("jointrange", set_joint, "skin_joints[2][1]")
            broken("rows", short_rows, "skin_weights")
            broken("nojoints", drop_joints, "joints")
            broken("format", bad_format, "format")
        rc, so, se = run("--check", os.path.join(tmp, "nope.json"), env=env)
        check(rc == 2 and "file not found" in se, "--check missing file: exit 2")

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("test_convert_smpl_model: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
