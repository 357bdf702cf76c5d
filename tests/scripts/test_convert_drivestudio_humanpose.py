#!/usr/bin/env python3
"""Self-test of scripts/convert_drivestudio_humanpose.py without real data or torch
(standard library only).

    python3 tests/scripts/test_convert_drivestudio_humanpose.py      # exit 0 on success

Builds a tiny street scene (ego_pose/, extrinsics/, instances/) and a humanpose/smpl.pkl with
the structure drivestudio's datasets/tools/postprocess.py writes: {instance id: {"smpl":
{"global_orient" F×1×3×3, "body_pose" F×23×3×3, "betas" F×10}, "valid_mask", "matched_mask",
"must_appear_mask", "selected_cam_idx"}} of torch tensors. The tensors are pickled the way torch
pickles them (torch._utils._rebuild_tensor_v2 over a storage that reduces to
torch.storage._load_from_bytes of a legacy torch.save stream), using stand-in `torch` modules
written to a temporary folder, so the converter reads them with its torch-free reader. A second
variant stores betas as a joblib inline numpy array (joblib.numpy_pickle.NumpyArrayWrapper).

Checks: the world rotation ego_pose[f]·extrinsics[cam]·OPENCV2DATASET·global_orient (with the
camera from selected_cam_idx), the body-joint quaternions, the translation (--anchor bbox: the
posed template's box centre at the annotated box centre, in the axes of ego_pose[--aabb-frame];
--anchor pelvis: J_0 + transl at the box centre), skipped frames, --check, the error exits.
"""

import json
import math
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "scripts", "convert_drivestudio_humanpose.py")

PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
OPENCV2DATASET = [[0, 0, 1], [-1, 0, 0], [0, -1, 0]]
F = 6
PED = 2         # pedestrian with poses
PED_EMPTY = 7   # pedestrian in smpl.pkl without a valid frame

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args, env=None):
    p = subprocess.run([sys.executable, SCRIPT] + [str(a) for a in args],
                       capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


# ---- independent small linear algebra


def mm(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def mv(a, v):
    return [sum(a[i][k] * v[k] for k in range(3)) for i in range(3)]


def tr(a):
    return [list(r) for r in zip(*a)]


def rot_axis(axis, ang):
    c, s = math.cos(ang), math.sin(ang)
    if axis == "x":
        return [[1, 0, 0], [0, c, -s], [0, s, c]]
    if axis == "y":
        return [[c, 0, s], [0, 1, 0], [-s, 0, c]]
    return [[c, -s, 0], [s, c, 0], [0, 0, 1]]


def quat_to_mat(q):
    n = math.sqrt(sum(x * x for x in q))
    w, x, y, z = (c / n for c in q)
    return [[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]]


def random_rotation(rng, scale=math.pi):
    axis = [rng.gauss(0, 1) for _ in range(3)]
    n = math.sqrt(sum(a * a for a in axis))
    ang = rng.uniform(-scale, scale)
    s = math.sin(ang / 2)
    return quat_to_mat([math.cos(ang / 2)] + [a / n * s for a in axis])


def mat_close(a, b, tol=1e-6):
    return all(abs(a[i][j] - b[i][j]) <= tol for i in range(3) for j in range(3))


def rigid(R, t):
    return [R[0] + [t[0]], R[1] + [t[1]], R[2] + [t[2]], [0, 0, 0, 1]]


def pose(template, q_root, q_body, transl):
    """Format A's posing, written independently of the converter."""
    J = template["joints"]
    GR, Gt = [None] * 24, [None] * 24
    GR[0] = quat_to_mat(q_root)
    Gt[0] = [J[0][c] + transl[c] for c in range(3)]
    for j in range(1, 24):
        p = PARENTS[j]
        GR[j] = mm(GR[p], quat_to_mat(q_body[j - 1]))
        off = mv(GR[p], [J[j][c] - J[p][c] for c in range(3)])
        Gt[j] = [Gt[p][c] + off[c] for c in range(3)]
    out = []
    for x, js, ws in zip(template["vertices"], template["skin_joints"],
                         template["skin_weights"]):
        acc = [0.0, 0.0, 0.0]
        for j, w in zip(js, ws):
            y = mv(GR[j], [x[c] - J[j][c] for c in range(3)])
            for c in range(3):
                acc[c] += w * (y[c] + Gt[j][c])
        out.append(acc)
    return out


# ---- stand-in torch / numpy / joblib modules used only to WRITE the synthetic smpl.pkl

FAKE_TORCH_INIT = '''
class FloatStorage(object): pass
class LongStorage(object): pass
class BoolStorage(object): pass
'''
FAKE_TORCH_UTILS = '''
def _rebuild_tensor_v2(*a):
    raise RuntimeError("stand-in")
'''
FAKE_TORCH_STORAGE = '''
def _load_from_bytes(b):
    raise RuntimeError("stand-in")
'''
FAKE_NUMPY_INIT = '''
class ndarray(object): pass
class dtype(object):
    def __init__(self, s):
        self.s = s
    def __reduce__(self):
        return (dtype, (self.s, False, True), (3, '<', None, None, None, -1, -1, 0))
'''
FAKE_JOBLIB_NP = '''
class NumpyArrayWrapper(object): pass
'''

WRITER = r'''
import collections, io, json, pickle, struct, sys
import torch, torch._utils, torch.storage
import numpy
from joblib.numpy_pickle import NumpyArrayWrapper

MAGIC = 0x1950a86a20f9469cfc6c
FMT = {"f": (torch.FloatStorage, "f"), "i": (torch.LongStorage, "q"), "b": (torch.BoolStorage, "?")}
_keys = [1000]

class Storage(object):
    """Reduces like torch's TypedStorage: _load_from_bytes(legacy torch.save stream)."""
    def __init__(self, kind, flat):
        self.stype, self.fmt = FMT[kind]
        self.flat = flat
        _keys[0] += 7
        self.key = str(_keys[0])
    def __reduce__(self):
        b = io.BytesIO()
        pickle.dump(MAGIC, b, protocol=2)
        pickle.dump(1001, b, protocol=2)
        pickle.dump(dict(protocol_version=1001, little_endian=True,
                         type_sizes=dict(short=2, int=4, long=4)), b, protocol=2)
        p = pickle.Pickler(b, protocol=2)
        me = self
        p.persistent_id = lambda o: (("storage", me.stype, me.key, "cpu", len(me.flat), None)
                                     if o is me else None)
        p.dump(self)
        pickle.dump([self.key], b, protocol=2)
        b.write(struct.pack("<q", len(self.flat)))
        b.write(struct.pack("<%d%s" % (len(self.flat), self.fmt), *self.flat))
        return (torch.storage._load_from_bytes, (b.getvalue(),))

def flatten(x):
    if isinstance(x, list):
        out = []
        for e in x:
            out.extend(flatten(e))
        return out
    return [x]

def shape_of(x):
    s = []
    while isinstance(x, list):
        s.append(len(x))
        x = x[0] if x else None
    return tuple(s)

class Tensor(object):
    """Reduces like torch.Tensor: _rebuild_tensor_v2(storage, offset, size, stride, ...)."""
    def __init__(self, nested, kind="f", offset=0, layout="C"):
        self.shape = shape_of(nested)
        flat = flatten(nested)
        self.kind, self.offset = kind, offset
        if layout == "F" and len(self.shape) == 2:       # column-major storage
            r, c = self.shape
            flat = [flat[i * c + j] for j in range(c) for i in range(r)]
            self.stride = (1, r)
        else:
            st, acc = [], 1
            for s in reversed(self.shape):
                st.append(acc); acc *= s
            self.stride = tuple(reversed(st))
        pad = [0 if kind != "b" else False] * offset
        self.storage = Storage(kind, pad + flat + pad)
    def __reduce_ex__(self, proto):
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.shape, self.stride, False,
                 collections.OrderedDict()))

class InlineArray(object):
    def __init__(self, nested):
        self.shape, self.flat = shape_of(nested), flatten(nested)

class JoblibLikePickler(pickle._Pickler):
    """Writes InlineArray as joblib's NumpyPickler does: the wrapper, then the raw array
    (alignment padding: one length byte, then that many bytes)."""
    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, InlineArray):
            w = NumpyArrayWrapper()
            w.__dict__.update(subclass=numpy.ndarray, shape=obj.shape, order="C",
                              dtype=numpy.dtype("f8"), allow_mmap=True,
                              numpy_array_alignment_bytes=16)
            pickle._Pickler.save(self, w)
            f = self._file
            pos = f.tell() + 1
            pad = 16 - pos % 16
            f.write(bytes([pad]) + b"\xff" * pad)
            f.write(struct.pack("<%dd" % len(obj.flat), *obj.flat))
            return
        pickle._Pickler.save(self, obj, save_persistent_id)

spec = json.load(open(sys.argv[1]))
out, variant = sys.argv[2], sys.argv[3]
data = {}
for key, ins in spec.items():
    smpl = {
        "global_orient": Tensor(ins["global_orient"], offset=3),
        "body_pose": Tensor(ins["body_pose"]),
        "betas": Tensor(ins["betas"], layout="F"),
    }
    if variant == "joblib":
        smpl["betas"] = InlineArray(ins["betas"])
    data[int(key)] = {
        "smpl": smpl,
        "valid_mask": Tensor(ins["valid_mask"], "b"),
        "matched_mask": Tensor(ins["valid_mask"], "b"),
        "must_appear_mask": Tensor(ins["valid_mask"], "b"),
        "selected_cam_idx": Tensor(ins["selected_cam_idx"], "i"),
    }
if variant == "joblib":
    with open(out, "wb") as f:
        p = JoblibLikePickler(f, protocol=2)
        p._file = f
        p.dump(data)
else:
    with open(out, "wb") as f:
        pickle.dump(data, f, protocol=int(variant) if variant.isdigit() else 4)
'''


def make_fake_modules(d):
    files = {
        "torch/__init__.py": FAKE_TORCH_INIT,
        "torch/_utils.py": FAKE_TORCH_UTILS,
        "torch/storage.py": FAKE_TORCH_STORAGE,
        "numpy/__init__.py": FAKE_NUMPY_INIT,
        "joblib/__init__.py": "",
        "joblib/numpy_pickle.py": FAKE_JOBLIB_NP,
        "write_smpl_pkl.py": WRITER,
    }
    for rel, text in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


def write_smpl_pkl(fake, spec, out, variant="4"):
    sp = os.path.join(fake, "spec_%d.json" % abs(hash(out)))
    with open(sp, "w") as f:
        json.dump(spec, f)
    env = dict(os.environ, PYTHONPATH=fake)
    p = subprocess.run([sys.executable, os.path.join(fake, "write_smpl_pkl.py"), sp, out,
                        variant], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("writing the synthetic smpl.pkl failed: " + p.stderr)


# ---- the synthetic scene


def write_matrix(path, m):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for r in m:
            f.write(" ".join(repr(float(x)) for x in r) + "\n")


def build_scene(root, rng):
    ego = {}
    for f in range(F):
        R = mm(rot_axis("z", 0.3 + 0.1 * f), rot_axis("x", 0.02 * f))
        ego[f] = rigid(R, [10 + 2 * f, -3 + 0.5 * f, 0.2])
        write_matrix(os.path.join(root, "ego_pose", "%03d.txt" % f), ego[f])
    ext = {}
    for c, yaw in enumerate([0.0, 0.8, -0.8, 1.6, -1.6]):
        R = mm(rot_axis("z", yaw), rot_axis("y", 0.03 * (c + 1)))
        ext[c] = rigid(R, [1.5, 0.1 * c, 2.0])
        write_matrix(os.path.join(root, "extrinsics", "%d.txt" % c), ext[c])
    centres = {}
    o2w = []
    for f in range(F - 1):                       # frame 5 not annotated
        centres[f] = [15 + f, 2 + 0.1 * f, 0.9]
        o2w.append(rigid(rot_axis("z", 0.2 * f), centres[f]))
    info = {
        "0": {"id": "veh", "class_name": "Vehicle",
              "frame_annotations": {"frame_idx": list(range(F)),
                                    "obj_to_world": [rigid(rot_axis("z", 0), [5, 0, 1])] * F,
                                    "box_size": [[4, 2, 1.5]] * F}},
        str(PED): {"id": "ped", "class_name": "Pedestrian",
                   "frame_annotations": {"frame_idx": list(range(F - 1)), "obj_to_world": o2w,
                                         "box_size": [[0.8, 0.8, 1.8]] * (F - 1)}},
        str(PED_EMPTY): {"id": "ped2", "class_name": "Pedestrian",
                         "frame_annotations": {"frame_idx": [0], "obj_to_world": [o2w[0]],
                                               "box_size": [[0.8, 0.8, 1.8]]}},
    }
    os.makedirs(os.path.join(root, "instances"), exist_ok=True)
    with open(os.path.join(root, "instances", "instances_info.json"), "w") as f:
        json.dump(info, f)
    frame_inst = {str(f): [0, PED] if f < F - 1 else [0] for f in range(F)}
    frame_inst["0"].append(PED_EMPTY)
    with open(os.path.join(root, "instances", "frame_instances.json"), "w") as f:
        json.dump(frame_inst, f)
    os.makedirs(os.path.join(root, "humanpose"), exist_ok=True)
    return ego, ext, centres


def build_spec(rng, body_joints=23):
    go = [[random_rotation(rng)] for _ in range(F)]
    bp = [[random_rotation(rng, 0.6) for _ in range(body_joints)] for _ in range(F)]
    betas = [[rng.uniform(-1, 1) for _ in range(10)] for _ in range(F)]
    spec = {
        str(PED): {"global_orient": go, "body_pose": bp, "betas": betas,
                   "valid_mask": [True, True, False, True, True, True],
                   "selected_cam_idx": [0, 1, -1, 2, 4, 0]},
        str(PED_EMPTY): {"global_orient": go, "body_pose": bp, "betas": betas,
                         "valid_mask": [False] * F, "selected_cam_idx": [-1] * F},
    }
    return spec


def build_template(rng):
    joints = [[0.0, 0.0, 0.0]]
    for j in range(1, 24):
        p = joints[PARENTS[j]]
        joints.append([p[0] + rng.uniform(-0.2, 0.2), p[1] + rng.uniform(-0.3, 0.3),
                       p[2] + rng.uniform(-0.05, 0.05)])
    joints = [[x, y + 0.9, z] for x, y, z in joints]       # pelvis above the ground, y up
    verts, sj, sw = [], [], []
    for _ in range(60):
        j = rng.randrange(24)
        verts.append([joints[j][c] + rng.uniform(-0.1, 0.1) for c in range(3)])
        js = [j] + rng.sample([k for k in range(24) if k != j], 3)
        ws = [rng.uniform(0.5, 1.0)] + [rng.uniform(0, 0.3) for _ in range(3)]
        s = sum(ws)
        sj.append(js)
        sw.append([w / s for w in ws])
    return {"format": "gstrain-body-template", "version": 1, "joint_count": 24,
            "parents": PARENTS, "joints": joints, "vertices": verts, "skin_joints": sj,
            "skin_weights": sw}


def main():
    rng = random.Random(11)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with tempfile.TemporaryDirectory() as tmp:
        fake = os.path.join(tmp, "fake")
        make_fake_modules(fake)
        scene = os.path.join(tmp, "scene")
        ego, ext, centres = build_scene(scene, rng)
        spec = build_spec(rng)
        write_smpl_pkl(fake, spec, os.path.join(scene, "humanpose", "smpl.pkl"))
        template = build_template(rng)
        tpath = os.path.join(tmp, "template.json")
        with open(tpath, "w") as f:
            json.dump(template, f)
        out = os.path.join(scene, "humanpose", "poses.json")
        betas_out = os.path.join(tmp, "betas.json")

        # 1. default: --anchor bbox, axes of ego_pose[0]
        rc, so, se = run(scene, "--body-template", tpath, "--loader", "stdlib",
                         "--betas-out", betas_out, env=env)
        check(rc == 0, "convert: exit 0 (%d: %s)" % (rc, se.strip()))
        check("2@5" in se, "the valid but unannotated frame 5 is reported (%s)" % se.strip())
        check("instance 7" in se, "the instance without valid frames is reported")
        doc = None
        if rc == 0:
            with open(out) as f:
                doc = json.load(f)
            rc2, so2, se2 = run("--check", out, env=env)
            check(rc2 == 0, "--check accepts the output (%s)" % se2.strip())
            check(doc["format"] == "gstrain-humanpose" and doc["version"] == 1
                  and doc["joint_count"] == 24 and doc["rotation"] == "quaternion_wxyz",
                  "header")
            check([h["instance_id"] for h in doc["humans"]] == [PED], "humans: only instance 2")
            frames = doc["humans"][0]["frames"] if doc["humans"] else []
            check([fr["frame_idx"] for fr in frames] == [0, 1, 3, 4],
                  "frames 0 1 3 4 (2 invalid, 5 unannotated)")
            s = spec[str(PED)]
            R_a = [r[:3] for r in ego[0][:3]]
            for fr in frames:
                f = fr["frame_idx"]
                cam = s["selected_cam_idx"][f]
                E = [r[:3] for r in ego[f][:3]]
                X = [r[:3] for r in ext[cam][:3]]
                want = mm(mm(mm(E, X), OPENCV2DATASET), s["global_orient"][f][0])
                check(mat_close(quat_to_mat(fr["global_orient"]), want),
                      "frame %d: global_orient = ego·extrinsic(cam %d)·OPENCV2DATASET·R" %
                      (f, cam))
                check(abs(sum(c * c for c in fr["global_orient"]) - 1) < 1e-6
                      and fr["global_orient"][0] >= 0, "frame %d: unit quaternion, w ≥ 0" % f)
                check(all(mat_close(quat_to_mat(q), s["body_pose"][f][j])
                          for j, q in enumerate(fr["body_pose"])),
                      "frame %d: body_pose quaternions" % f)
                posed = pose(template, fr["global_orient"], fr["body_pose"], fr["transl"])
                local = [mv(tr(R_a), p) for p in posed]
                mid = [(min(p[c] for p in local) + max(p[c] for p in local)) / 2
                       for c in range(3)]
                want_mid = mv(tr(R_a), centres[f])
                check(all(abs(mid[c] - want_mid[c]) < 1e-6 for c in range(3)),
                      "frame %d: posed box centre at the annotated box centre (%s vs %s)"
                      % (f, mid, want_mid))
            with open(betas_out) as f:
                b = json.load(f)
            check(list(b) == [str(PED)] and all(abs(x - y) < 1e-6 for x, y in
                                                zip(b[str(PED)], s["betas"][0])),
                  "--betas-out: the first valid frame's betas")

        # 2. --aabb-frame 3
        out3 = os.path.join(tmp, "poses_f3.json")
        rc, so, se = run(scene, "--body-template", tpath, "--aabb-frame", 3, "-o", out3,
                         env=env)
        check(rc == 0, "--aabb-frame 3: exit 0 (%s)" % se.strip())
        if rc == 0:
            with open(out3) as f:
                d3 = json.load(f)
            R_a = [r[:3] for r in ego[3][:3]]
            for fr in d3["humans"][0]["frames"]:
                f = fr["frame_idx"]
                posed = pose(template, fr["global_orient"], fr["body_pose"], fr["transl"])
                local = [mv(tr(R_a), p) for p in posed]
                mid = [(min(p[c] for p in local) + max(p[c] for p in local)) / 2
                       for c in range(3)]
                want_mid = mv(tr(R_a), centres[f])
                check(all(abs(mid[c] - want_mid[c]) < 1e-6 for c in range(3)),
                      "--aabb-frame 3, frame %d: box centre in ego_pose[3]'s axes" % f)

        # 3. --anchor pelvis (with the template, and with --rest-pelvis)
        for extra, j0 in ((["--body-template", tpath], template["joints"][0]),
                          (["--rest-pelvis", "0.1", "0.2", "0.3"], [0.1, 0.2, 0.3])):
            outp = os.path.join(tmp, "poses_pelvis.json")
            rc, so, se = run(scene, "--anchor", "pelvis", "-o", outp, *extra, env=env)
            check(rc == 0, "--anchor pelvis %s: exit 0 (%s)" % (extra[0], se.strip()))
            if rc == 0:
                with open(outp) as f:
                    dp = json.load(f)
                for fr in dp["humans"][0]["frames"]:
                    f = fr["frame_idx"]
                    check(all(abs(fr["transl"][c] + j0[c] - centres[f][c]) < 1e-6
                              for c in range(3)),
                          "--anchor pelvis %s, frame %d: J_0 + transl = box centre"
                          % (extra[0], f))

        # 4. joblib inline arrays and pickle protocol 2
        for variant in ("joblib", "2"):
            sc2 = os.path.join(tmp, "pkl_" + variant + ".pkl")
            write_smpl_pkl(fake, spec, sc2, variant)
            outv = os.path.join(tmp, "poses_%s.json" % variant)
            rc, so, se = run(scene, "--smpl", sc2, "--body-template", tpath, "-o", outv,
                             "--betas-out", os.path.join(tmp, "b_%s.json" % variant), env=env)
            check(rc == 0, "variant %s: exit 0 (%s)" % (variant, se.strip()))
            if rc == 0 and doc is not None:
                with open(outv) as f:
                    check(json.load(f) == doc, "variant %s: the same poses" % variant)
                with open(os.path.join(tmp, "b_%s.json" % variant)) as f:
                    bv = json.load(f)
                check(all(abs(x - y) < 1e-6 for x, y in zip(bv[str(PED)],
                                                           spec[str(PED)]["betas"][0])),
                      "variant %s: betas" % variant)

        # 5. the quaternion conversion on hard cases (Shepperd branches, 180° turns)
        sys.dont_write_bytecode = True
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        import convert_drivestudio_humanpose as cdh
        cases = [rot_axis("x", math.pi), rot_axis("y", math.pi), rot_axis("z", math.pi),
                 rot_axis("x", math.pi - 1e-7), mm(rot_axis("z", 2.5), rot_axis("x", 3.0)),
                 [[1, 0, 0], [0, 1, 0], [0, 0, 1]]]
        cases += [random_rotation(rng) for _ in range(200)]
        check(all(mat_close(quat_to_mat(cdh.quat_from_matrix(m)), m, 1e-9) for m in cases),
              "quat_from_matrix round-trips (incl. 180° rotations)")

        # 6. errors (exit 2, message naming the problem)
        def expect_error(args, needle, what):
            rc, so, se = run(*args, env=env)
            check(rc == 2 and needle in se, "%s: exit 2 naming %r (%d: %s)"
                  % (what, needle, rc, se.strip()))

        expect_error([scene, "--smpl", os.path.join(tmp, "none.pkl"), "--body-template",
                      tpath], "none.pkl: file not found", "missing smpl.pkl")
        expect_error([scene], "--body-template", "bbox anchor without a template")
        expect_error([os.path.join(tmp, "noscene")], "scene folder not found", "missing scene")

        bad = build_spec(random.Random(3), body_joints=22)
        p22 = os.path.join(tmp, "bp22.pkl")
        write_smpl_pkl(fake, bad, p22)
        expect_error([scene, "--smpl", p22, "--body-template", tpath], "23 body joints",
                     "22 body joints")

        bad = build_spec(random.Random(4))
        bad["9"] = bad[str(PED)]
        p9 = os.path.join(tmp, "unknown_id.pkl")
        write_smpl_pkl(fake, bad, p9)
        expect_error([scene, "--smpl", p9, "--body-template", tpath], "instance 9",
                     "instance id not in instances_info.json")

        veh = build_spec(random.Random(8))
        veh["0"] = veh[str(PED)]
        pv = os.path.join(tmp, "vehicle.pkl")
        write_smpl_pkl(fake, veh, pv)
        outv = os.path.join(tmp, "poses_vehicle.json")
        rc, so, se = run(scene, "--smpl", pv, "--body-template", tpath, "-o", outv, env=env)
        check(rc == 0 and "instance 0 is a Vehicle" in se, "a Vehicle in smpl.pkl: warned")
        if rc == 0:
            with open(outv) as f:
                check([h["instance_id"] for h in json.load(f)["humans"]] == [PED],
                      "a Vehicle in smpl.pkl: left out")

        bad = build_spec(random.Random(5))
        bad[str(PED)]["body_pose"][3][4] = [[2, 0, 0], [0, 1, 0], [0, 0, 1]]
        pr = os.path.join(tmp, "notrot.pkl")
        write_smpl_pkl(fake, bad, pr)
        expect_error([scene, "--smpl", pr, "--body-template", tpath],
                     "frame 3: smpl.body_pose[4] (joint 5, right_knee) is not a rotation",
                     "non-rotation body_pose")

        bad = build_spec(random.Random(6))
        bad[str(PED)]["selected_cam_idx"][0] = 5
        pc = os.path.join(tmp, "cam5.pkl")
        write_smpl_pkl(fake, bad, pc)
        expect_error([scene, "--smpl", pc, "--body-template", tpath], "selected_cam_idx[0] = 5",
                     "camera index outside the list")

        os.rename(os.path.join(scene, "extrinsics", "2.txt"),
                  os.path.join(scene, "extrinsics", "2.bak"))
        expect_error([scene, "--body-template", tpath, "-o", os.path.join(tmp, "x.json")],
                     os.path.join("extrinsics", "2.txt") + ": file not found",
                     "missing extrinsics")
        os.rename(os.path.join(scene, "extrinsics", "2.bak"),
                  os.path.join(scene, "extrinsics", "2.txt"))

        junk = os.path.join(tmp, "junk.pkl")
        with open(junk, "wb") as f:
            f.write(b"\x80\x04not really")
        expect_error([scene, "--smpl", junk, "--body-template", tpath], "junk.pkl",
                     "junk pickle")

        badt = dict(template, parents=[-1] + [0] * 23)
        bt = os.path.join(tmp, "bad_template.json")
        with open(bt, "w") as f:
            json.dump(badt, f)
        expect_error([scene, "--body-template", bt], "parents[4] (left_knee)", "bad template")

        if doc is not None:
            def broken(name, mutate, needle):
                d = json.loads(json.dumps(doc))
                mutate(d)
                p = os.path.join(tmp, name + ".json")
                with open(p, "w") as f:
                    json.dump(d, f)
                expect_error(["--check", p], needle, "--check " + name)

            broken("bodyjoints", lambda d: d["humans"][0]["frames"][1]["body_pose"].pop(),
                   "humans[0].frames[1].body_pose")
            broken("order", lambda d: d["humans"][0]["frames"][2].update(frame_idx=0),
                   "humans[0].frames[2].frame_idx")
            broken("nan", lambda d: d["humans"][0]["frames"][0]["transl"].__setitem__(
                1, float("nan")), "NaN")
            broken("zeroquat", lambda d: d["humans"][0]["frames"][0].update(
                global_orient=[0, 0, 0, 0]), "zero quaternion")
            broken("rotation", lambda d: d.update(rotation="matrix"), "rotation")
            broken("dup", lambda d: d["humans"].append(d["humans"][0]), "appears twice")

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("test_convert_drivestudio_humanpose: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
