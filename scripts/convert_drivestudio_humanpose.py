#!/usr/bin/env python3
"""Convert drivestudio's human poses (humanpose/smpl.pkl) into gstrain's humanpose/poses.json
(format A, docs/humanpose_format.md).

    python3 scripts/convert_drivestudio_humanpose.py SCENE --body-template TEMPLATE.json
    python3 scripts/convert_drivestudio_humanpose.py --check SCENE/humanpose/poses.json

SCENE is a street scene folder in drivestudio's processed Waymo layout (docs/street_format.md).
TEMPLATE.json is the body template (format B) that training will use, i.e. the file given as
nodes.<skeleton node>.body_model (scripts/convert_smpl_model.py writes one from SMPL).

What drivestudio stores, and how it is read (drivestudio @ e59bda4, github.com/ziyc/drivestudio):
  * datasets/tools/humanpose_process.py:49-52 joblib.dump()s the dict that
    datasets/tools/postprocess.py match_and_postprocess() returns (lines 455-602): one entry per
    ground-truth instance id (gt_tid; the ids of instances/frame_instances.json and the keys of
    instances_info.json, see datasets/waymo/waymo_human_utils.py:133-181), each
        "smpl": {"global_orient": (F,1,3,3), "body_pose": (F,23,3,3), "betas": (F,10)}
                  rotation matrices, torch float32 tensors
        "valid_mask" (F,) bool, "matched_mask" (F,) bool, "must_appear_mask" (F,) bool,
        "selected_cam_idx" (F,) long: index into the camera list the extraction ran on
    F = all frames of the scene; index f is the scene's frame f.
  * datasets/waymo/waymo_sourceloader.py:267-318 loads it:
        c2w          = inv(ego_pose[start]) @ ego_pose[f] @ extrinsics[cam] @ OPENCV2DATASET
                       (get_camera2worlds, lines 112-139; OPENCV2DATASET lines 31-33)
        world_orient = c2w[:3,:3] @ global_orient[f]               (line 302)
        smpl_quats   = matrix_to_quaternion([world_orient, body_pose[f]])  (pytorch3d, w x y z)
        smpl_trans   = (inv(ego_pose[start]) @ obj_to_world[f])[:3, 3]  the box centre (307-317)
    i.e. global_orient is in the OpenCV frame (x right, y down, z forward) of the camera
    CAMERA_LIST[selected_cam_idx[f]] (Waymo: CAMERA_LIST = AVAILABLE_CAM_LIST = [0, 1, 2, 3, 4],
    waymo_human_utils.py:21, so the index is the camera id).
  * models/nodes/smpl.py:118-143 then shifts each frame's translation so that the centre of the
    axis-aligned box around the posed SMPL vertices is the annotated box centre
    (instances_trans -= local_shift, the posed vertices' (min+max)/2 before translation), with
    the posing of models/human_body.py:158-180 (smplx's batch_rigid_transform: the root
    rotates about J_0, joint transforms G_j (x - J_j)), which is the posing of format A.

What this script writes (format A): per instance and valid frame f
    global_orient = quat( ego_pose[f] · extrinsics[cam] · OPENCV2DATASET · global_orient[f] )
                    (rotation parts; the world of ego_pose/, before gstrain's start-frame shift)
    body_pose     = quat( body_pose[f][j] ), j = 1..23 (relative to the parent, SMPL order)
    transl        = with --anchor bbox (default, drivestudio's smpl.py): the posed template's
                    box centre, in the axes of ego_pose[--aabb-frame], at the instance's box
                    centre; with --anchor pelvis: the posed pelvis J_0 + transl at the box
                    centre.
Frames where the instance has no box in instances_info.json are skipped with a warning
(drivestudio's loader would stop there: list.index raises ValueError).

smpl.pkl holds torch tensors. Without torch, the file is read with a restricted unpickler that
understands torch's pickling of tensors (convert_smpl_model.py); with torch installed,
--loader auto uses joblib/pickle with torch.

Exit codes: 0 written / valid, 2 a missing or malformed input (the message names the file and
the field).
"""

import argparse
import json
import math
import os
import sys

sys.dont_write_bytecode = True   # leave no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_smpl_model as csm  # noqa: E402  (the stand-in unpickler, SMPL tree, template)

PROG = "convert_drivestudio_humanpose.py"
POSES_FORMAT = "gstrain-humanpose"
POSES_VERSION = 1
JOINT_COUNT = 24
BODY_JOINTS = 23
ROTATION_TOLERANCE = 1e-2

# drivestudio datasets/waymo/waymo_sourceloader.py:31-33: OpenCV camera axes → Waymo camera axes.
OPENCV2DATASET = [[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]
# drivestudio datasets/waymo/waymo_sourceloader.py:41 / waymo_human_utils.py:21.
WAYMO_CAMERA_LIST = [0, 1, 2, 3, 4]

InputError = csm.InputError


def warn(msg):
    print("%s: warning: %s" % (PROG, msg), file=sys.stderr)


# ----------------------------------------------------------------------------------------------
# Small linear algebra


def matmul3(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def transpose3(a):
    return [[a[j][i] for j in range(3)] for i in range(3)]


def matvec3(a, v):
    return [a[i][0] * v[0] + a[i][1] * v[1] + a[i][2] * v[2] for i in range(3)]


def det3(m):
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def rotation_error(m):
    """max |MᵀM − I| and det(M)."""
    mtm = matmul3(transpose3(m), m)
    err = max(abs(mtm[i][j] - (1.0 if i == j else 0.0)) for i in range(3) for j in range(3))
    return err, det3(m)


def quat_from_matrix(m):
    """Rotation matrix → unit quaternion (w, x, y, z), Shepperd's method (the largest of
    w², x², y², z² picks the branch, so no division by a small number), w ≥ 0."""
    m00, m01, m02 = m[0]
    m10, m11, m12 = m[1]
    m20, m21, m22 = m[2]
    tr = m00 + m11 + m22
    big = max(tr, m00, m11, m22)
    if big == tr:
        r = math.sqrt(max(1.0 + tr, 0.0))
        s = 0.5 / r
        q = [0.5 * r, (m21 - m12) * s, (m02 - m20) * s, (m10 - m01) * s]
    elif big == m00:
        r = math.sqrt(max(1.0 + m00 - m11 - m22, 0.0))
        s = 0.5 / r
        q = [(m21 - m12) * s, 0.5 * r, (m01 + m10) * s, (m02 + m20) * s]
    elif big == m11:
        r = math.sqrt(max(1.0 - m00 + m11 - m22, 0.0))
        s = 0.5 / r
        q = [(m02 - m20) * s, (m01 + m10) * s, 0.5 * r, (m12 + m21) * s]
    else:
        r = math.sqrt(max(1.0 - m00 - m11 + m22, 0.0))
        s = 0.5 / r
        q = [(m10 - m01) * s, (m02 + m20) * s, (m12 + m21) * s, 0.5 * r]
    n = math.sqrt(sum(c * c for c in q))
    q = [c / n for c in q]
    if q[0] < 0:
        q = [-c for c in q]
    return q


def matrix_from_quat(q):
    w, x, y, z = q
    n = math.sqrt(w * w + x * x + y * y + z * z)
    w, x, y, z = w / n, x / n, y / n, z / n
    return [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]


def pose_template(template, root_rot, body_rots, root_pos):
    """Format A's posing: G_0 = (R_0, root_pos), G_j = G_parent(j) · (R_j, J_j − J_parent(j));
    vertex x → Σ_k w_k G_{j_k} (x − J_{j_k}). Returns the posed vertices."""
    J = template["joints"]
    parents = template["parents"]
    G_R = [None] * JOINT_COUNT
    G_t = [None] * JOINT_COUNT
    G_R[0], G_t[0] = root_rot, list(root_pos)
    for j in range(1, JOINT_COUNT):
        p = parents[j]
        off = [J[j][c] - J[p][c] for c in range(3)]
        G_R[j] = matmul3(G_R[p], body_rots[j - 1])
        t = matvec3(G_R[p], off)
        G_t[j] = [G_t[p][c] + t[c] for c in range(3)]
    out = []
    for x, js, ws in zip(template["vertices"], template["skin_joints"],
                         template["skin_weights"]):
        acc = [0.0, 0.0, 0.0]
        for j, w in zip(js, ws):
            d = [x[c] - J[j][c] for c in range(3)]
            y = matvec3(G_R[j], d)
            for c in range(3):
                acc[c] += w * (y[c] + G_t[j][c])
        out.append(acc)
    return out


# ----------------------------------------------------------------------------------------------
# Scene files


def read_matrix4(path):
    if not os.path.isfile(path):
        raise InputError("%s: file not found" % path)
    try:
        with open(path) as f:
            vals = [float(t) for t in f.read().split()]
    except ValueError as e:
        raise InputError("%s: not a list of numbers: %s" % (path, e))
    if len(vals) != 16:
        raise InputError("%s: expected 16 numbers (a 4×4 matrix), found %d" % (path, len(vals)))
    if not all(math.isfinite(v) for v in vals):
        raise InputError("%s: non-finite number" % path)
    m = [vals[0:4], vals[4:8], vals[8:12], vals[12:16]]
    err, det = rotation_error([r[:3] for r in m[:3]])
    if err > 1e-3 or det <= 0:
        raise InputError("%s: the rotation part is not a rotation (|RᵀR − I| = %.3g, det %.3g)"
                         % (path, err, det))
    return m


class Scene:
    def __init__(self, path):
        self.path = path
        if not os.path.isdir(path):
            raise InputError("%s: scene folder not found" % path)
        info_path = os.path.join(path, "instances", "instances_info.json")
        if not os.path.isfile(info_path):
            raise InputError("%s: file not found (the scene's instances are needed for the "
                             "box centres)" % info_path)
        try:
            with open(info_path) as f:
                self.instances = json.load(f)
        except ValueError as e:
            raise InputError("%s: not valid JSON: %s" % (info_path, e))
        if not isinstance(self.instances, dict):
            raise InputError("%s: expected an object keyed by instance id" % info_path)
        self.info_path = info_path
        self._ego = {}
        self._ext = {}

    def ego_pose(self, frame):
        if frame not in self._ego:
            self._ego[frame] = read_matrix4(
                os.path.join(self.path, "ego_pose", "%03d.txt" % frame))
        return self._ego[frame]

    def extrinsic(self, cam):
        if cam not in self._ext:
            self._ext[cam] = read_matrix4(os.path.join(self.path, "extrinsics", "%s.txt" % cam))
        return self._ext[cam]

    def box_centre(self, iid, frame):
        """The instance's box centre in frame `frame` (Waymo world), or None if not annotated."""
        key = str(iid)
        inst = self.instances.get(key)
        where = "%s: \"%s\"" % (self.info_path, key)
        if not isinstance(inst, dict):
            raise InputError("%s: instance %s of smpl.pkl is not in %s"
                             % (self.info_path, key, self.info_path))
        fa = inst.get("frame_annotations")
        if not isinstance(fa, dict):
            raise InputError("%s.frame_annotations: missing" % where)
        idx, o2w = fa.get("frame_idx"), fa.get("obj_to_world")
        if not isinstance(idx, list) or not isinstance(o2w, list) or len(idx) != len(o2w):
            raise InputError("%s.frame_annotations: frame_idx and obj_to_world must be arrays "
                             "of equal length" % where)
        if frame not in idx:
            return None
        k = idx.index(frame)
        m = o2w[k]
        try:
            if len(m) == 16:
                t = [float(m[3]), float(m[7]), float(m[11])]
            else:
                t = [float(m[0][3]), float(m[1][3]), float(m[2][3])]
        except (TypeError, ValueError, IndexError):
            raise InputError("%s.frame_annotations.obj_to_world[%d]: expected a 4×4 array"
                             % (where, k))
        if not all(math.isfinite(v) for v in t):
            raise InputError("%s.frame_annotations.obj_to_world[%d]: non-finite" % (where, k))
        return t

    def class_name(self, iid):
        inst = self.instances.get(str(iid))
        return inst.get("class_name") if isinstance(inst, dict) else None


# ----------------------------------------------------------------------------------------------
# smpl.pkl


def load_smpl_pkl(path, loader):
    if not os.path.isfile(path):
        raise InputError("%s: file not found (drivestudio writes it with "
                         "datasets/tools/humanpose_process.py)" % path)
    if loader == "auto":
        try:
            import torch  # noqa: F401
            loader = "torch"
        except ImportError:
            loader = "stdlib"
    if loader == "torch":
        try:
            import joblib
            return joblib.load(path)
        except ImportError:
            import pickle
            import torch  # noqa: F401  (tensors unpickle through torch._utils)
            with open(path, "rb") as f:
                return pickle.load(f)
    try:
        return csm.load_pickle_standin(path)
    except csm.UnsupportedPickle as e:
        raise InputError("%s: %s (install torch and use --loader torch)" % (path, e))
    except InputError as e:
        raise InputError("%s: %s" % (path, e))


def as_array(value, what, shape_pattern):
    """→ NDArray whose shape matches shape_pattern (ints, or None for any)."""
    if value is None:
        raise InputError("%s: missing" % what)
    if hasattr(value, "detach") and hasattr(value, "tolist"):          # a real torch tensor
        shape = tuple(int(s) for s in value.shape)
        flat = value.detach().cpu().reshape(-1).tolist()
        a = csm.NDArray(flat, shape)
    else:
        a = csm.to_ndarray(value, what)
    ok = a.ndim == len(shape_pattern) and all(
        p is None or p == s for p, s in zip(shape_pattern, a.shape))
    if not ok:
        want = "×".join("F" if p is None else str(p) for p in shape_pattern)
        raise InputError("%s: shape %s, expected %s" % (what, "×".join(map(str, a.shape)) or
                                                          "scalar", want))
    return a


def instance_id_of(key, src):
    if isinstance(key, bool):
        raise InputError("%s: instance key %r is not an integer id" % (src, key))
    if isinstance(key, int):
        iid = key
    elif isinstance(key, str) and key.strip().lstrip("-").isdigit():
        iid = int(key)
    elif hasattr(key, "item"):
        iid = int(key.item())
    else:
        raise InputError("%s: instance key %r is not an integer id" % (src, key))
    if iid < 0:
        raise InputError("%s: instance id %d is negative" % (src, iid))
    return iid


def convert(args):
    scene = Scene(args.scene)
    smpl_path = args.smpl or os.path.join(args.scene, "humanpose", "smpl.pkl")
    out_path = args.output or os.path.join(args.scene, "humanpose", "poses.json")
    camera_list = args.camera_list

    template = None
    if args.body_template:
        template = csm.load_template(args.body_template)
    if args.anchor == "bbox" and template is None:
        raise InputError("--anchor bbox (drivestudio's placement: the posed body's box centre "
                         "at the annotated box centre) needs the body template: pass "
                         "--body-template, the same file as nodes.<node>.body_model (or use "
                         "--anchor pelvis with --body-template or --rest-pelvis X Y Z)")
    if args.anchor == "pelvis":
        if template is not None:
            j0 = template["joints"][0]
        elif args.rest_pelvis:
            j0 = list(args.rest_pelvis)
        else:
            raise InputError("--anchor pelvis needs the template's rest pelvis J_0: pass "
                             "--body-template or --rest-pelvis X Y Z")
    else:
        j0 = template["joints"][0]

    data = load_smpl_pkl(smpl_path, args.loader)
    if not isinstance(data, dict):
        raise InputError("%s: expected a dict keyed by instance id, found %s"
                         % (smpl_path, type(data).__name__))

    aabb_rot = None
    if args.anchor == "bbox":
        aabb_rot = [r[:3] for r in scene.ego_pose(args.aabb_frame)[:3]]

    humans = []
    betas_out = {}
    skipped_unannotated = []
    for key in sorted(data, key=lambda k: instance_id_of(k, smpl_path)):
        iid = instance_id_of(key, smpl_path)
        where = "%s: instance %d" % (smpl_path, iid)
        ins = data[key]
        if not isinstance(ins, dict):
            raise InputError("%s: expected a dict, found %s" % (where, type(ins).__name__))
        smpl = ins.get("smpl")
        if not isinstance(smpl, dict):
            raise InputError("%s: 'smpl': missing or not a dict (keys: %s)"
                             % (where, ", ".join(sorted(map(str, ins)))))
        valid = as_array(ins.get("valid_mask"), where + ": 'valid_mask'", (None,))
        F = valid.shape[0]
        cam_idx = as_array(ins.get("selected_cam_idx"), where + ": 'selected_cam_idx'", (F,))
        go = csm.to_ndarray(smpl.get("global_orient"), where + ": smpl.global_orient") \
            if smpl.get("global_orient") is not None else None
        if go is None:
            raise InputError("%s: smpl.global_orient: missing" % where)
        if go.ndim == 4:
            go = as_array(go, where + ": smpl.global_orient", (F, 1, 3, 3))
        else:
            go = as_array(go, where + ": smpl.global_orient", (F, 3, 3))
        bp = csm.to_ndarray(smpl.get("body_pose"), where + ": smpl.body_pose") \
            if smpl.get("body_pose") is not None else None
        if bp is None:
            raise InputError("%s: smpl.body_pose: missing" % where)
        if bp.ndim == 4 and bp.shape[0] == F and bp.shape[2:] == (3, 3) \
                and bp.shape[1] != BODY_JOINTS:
            raise InputError("%s: smpl.body_pose has %d joints per frame: SMPL has 23 body "
                             "joints (24 with the root); SMPL-H/SMPL-X poses are not supported"
                             % (where, bp.shape[1]))
        bp = as_array(bp, where + ": smpl.body_pose", (F, BODY_JOINTS, 3, 3))
        betas = smpl.get("betas")
        if betas is not None:
            betas = as_array(betas, where + ": smpl.betas", (F, None))
        if str(iid) not in scene.instances:
            raise InputError("%s: instance %d of %s is not in %s (drivestudio's loader looks "
                             "it up as instances_info[str(id)])"
                             % (scene.info_path, iid, smpl_path, scene.info_path))
        cls = scene.class_name(iid)
        if cls == "Vehicle":
            warn("instance %d is a Vehicle in instances_info.json: left out (poses are for "
                 "Pedestrian and Cyclist instances; drivestudio extracts them for pedestrians)"
                 % iid)
            continue
        if cls != "Pedestrian":
            warn("instance %d is a %s in instances_info.json (drivestudio extracts SMPL poses "
                 "for pedestrians); converted anyway" % (iid, cls))

        frames = []
        for f in range(F):
            if not valid.at(f):
                continue
            centre = scene.box_centre(iid, f)
            if centre is None:
                skipped_unannotated.append((iid, f))
                continue
            sel = int(cam_idx.at(f))
            if not (0 <= sel < len(camera_list)):
                raise InputError("%s: selected_cam_idx[%d] = %d is outside the camera list %s "
                                 "(--camera-list)" % (where, f, sel, camera_list))
            cam = camera_list[sel]
            fwhere = "%s, frame %d" % (where, f)

            def rot(a, idx, label):
                m = [[float(a.at(*(idx + (r, c)))) for c in range(3)] for r in range(3)]
                if not all(math.isfinite(x) for row in m for x in row):
                    raise InputError("%s: %s is not finite" % (fwhere, label))
                err, det = rotation_error(m)
                if err > ROTATION_TOLERANCE or det <= 0:
                    raise InputError("%s: %s is not a rotation matrix (|RᵀR − I| = %.3g, "
                                     "det %.3g)" % (fwhere, label, err, det))
                return m

            r_go = rot(go, (f, 0) if go.ndim == 4 else (f,), "smpl.global_orient")
            ego = [r[:3] for r in scene.ego_pose(f)[:3]]
            ext = [r[:3] for r in scene.extrinsic(cam)[:3]]
            # waymo_sourceloader.py:127,135-136,302 (rotation parts; ego_pose[start]⁻¹ left out:
            # format A's world is the world of ego_pose/).
            r_world = matmul3(matmul3(matmul3(ego, ext), OPENCV2DATASET), r_go)
            q_go = quat_from_matrix(r_world)
            q_body = []
            for j in range(BODY_JOINTS):
                q_body.append(quat_from_matrix(
                    rot(bp, (f, j), "smpl.body_pose[%d] (joint %d, %s)"
                        % (j, j + 1, csm.SMPL_JOINT_NAMES[j + 1]))))
            if args.anchor == "pelvis":
                pelvis = centre
            else:
                # drivestudio models/nodes/smpl.py:136-143: the centre of the posed vertices'
                # axis-aligned box (in drivestudio's world, whose axes are those of
                # ego_pose[start]) is put at the box centre. Posed relative to the pelvis:
                posed = pose_template(template, matrix_from_quat(q_go),
                                      [matrix_from_quat(q) for q in q_body], [0.0, 0.0, 0.0])
                rt = transpose3(aabb_rot)
                local = [matvec3(rt, p) for p in posed]
                mid = [(min(p[c] for p in local) + max(p[c] for p in local)) * 0.5
                       for c in range(3)]
                shift = matvec3(aabb_rot, mid)
                pelvis = [centre[c] - shift[c] for c in range(3)]
            transl = [pelvis[c] - j0[c] for c in range(3)]
            frames.append({"frame_idx": f, "global_orient": q_go, "transl": transl,
                           "body_pose": q_body})
            if betas is not None and iid not in betas_out:
                # driving_dataset.py:429-430: drivestudio keeps the first valid frame's betas.
                betas_out[iid] = [float(betas.at(f, k)) for k in range(betas.shape[1])]
        if not frames:
            warn("instance %d has no valid frame with a box; left out "
                 "(drivestudio's driving_dataset.py:416 skips it as well)" % iid)
            continue
        humans.append({"instance_id": iid, "frames": frames})

    if skipped_unannotated:
        shown = ", ".join("%d@%d" % p for p in skipped_unannotated[:10])
        warn("%d valid frame(s) have no box in instances_info.json and were skipped "
             "(instance@frame: %s%s)" % (len(skipped_unannotated), shown,
                                          ", ..." if len(skipped_unannotated) > 10 else ""))
    doc = {"format": POSES_FORMAT, "version": POSES_VERSION, "joint_count": JOINT_COUNT,
           "rotation": "quaternion_wxyz", "humans": humans}
    check_poses(doc, out_path)
    out_dir = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    write_poses(doc, out_path)
    if args.betas_out:
        with open(args.betas_out, "w") as f:
            json.dump({str(k): v for k, v in sorted(betas_out.items())}, f, indent=1)
            f.write("\n")
    nframes = sum(len(h["frames"]) for h in humans)
    print("%s: wrote %d human(s), %d frame pose(s)" % (out_path, len(humans), nframes))
    return 0


# ----------------------------------------------------------------------------------------------
# Format A: writing and checking


def write_poses(doc, path):
    fl = csm.fmt_list
    lines = ["{",
             '  "format": "%s", "version": %d, "joint_count": %d, "rotation": "%s",'
             % (doc["format"], doc["version"], doc["joint_count"], doc["rotation"]),
             '  "humans": [']
    for hi, h in enumerate(doc["humans"]):
        lines.append('    { "instance_id": %d,' % h["instance_id"])
        lines.append('      "frames": [')
        for fi, fr in enumerate(h["frames"]):
            lines.append('        { "frame_idx": %d, "global_orient": %s, "transl": %s,'
                         % (fr["frame_idx"], fl(fr["global_orient"]), fl(fr["transl"])))
            lines.append('          "body_pose": [%s] }%s'
                         % (", ".join(fl(q) for q in fr["body_pose"]),
                            "," if fi + 1 < len(h["frames"]) else ""))
        lines.append("      ] }" + ("," if hi + 1 < len(doc["humans"]) else ""))
    lines.append("  ]")
    lines.append("}")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


def check_poses(doc, src):
    def fail(field, msg):
        raise InputError("%s: %s: %s" % (src, field, msg))

    def is_int(x):
        return isinstance(x, int) and not isinstance(x, bool)

    def vec(x, n, field, quat=False):
        if not isinstance(x, list) or len(x) != n:
            fail(field, "expected %d numbers" % n)
        for c, v in enumerate(x):
            if not csm.finite(v):
                fail("%s[%d]" % (field, c), "%r is not a finite number" % (v,))
        if quat and math.sqrt(sum(v * v for v in x)) < 1e-8:
            fail(field, "zero quaternion")

    if not isinstance(doc, dict):
        raise InputError("%s: expected a JSON object" % src)
    for key, want in (("format", POSES_FORMAT), ("version", POSES_VERSION),
                      ("joint_count", JOINT_COUNT), ("rotation", "quaternion_wxyz")):
        if doc.get(key) != want or isinstance(doc.get(key), bool):
            fail(key, "is %r, expected %r" % (doc.get(key), want))
    humans = doc.get("humans")
    if not isinstance(humans, list):
        fail("humans", "missing or not an array")
    seen = set()
    for h_i, h in enumerate(humans):
        hf = "humans[%d]" % h_i
        if not isinstance(h, dict):
            fail(hf, "expected an object")
        iid = h.get("instance_id")
        if not is_int(iid) or iid < 0:
            fail(hf + ".instance_id", "%r is not a non-negative integer" % (iid,))
        if iid in seen:
            fail(hf + ".instance_id", "instance %d appears twice" % iid)
        seen.add(iid)
        frames = h.get("frames")
        if not isinstance(frames, list):
            fail(hf + ".frames", "missing or not an array")
        last = -1
        for f_i, fr in enumerate(frames):
            ff = "%s.frames[%d]" % (hf, f_i)
            if not isinstance(fr, dict):
                fail(ff, "expected an object")
            idx = fr.get("frame_idx")
            if not is_int(idx) or idx < 0:
                fail(ff + ".frame_idx", "%r is not a non-negative integer" % (idx,))
            if idx <= last:
                fail(ff + ".frame_idx", "%d is not after the previous frame %d" % (idx, last))
            last = idx
            vec(fr.get("global_orient"), 4, ff + ".global_orient", quat=True)
            vec(fr.get("transl"), 3, ff + ".transl")
            bp = fr.get("body_pose")
            if not isinstance(bp, list) or len(bp) != BODY_JOINTS:
                fail(ff + ".body_pose", "expected 23 quaternions (joints 1..23)")
            for j, q in enumerate(bp):
                vec(q, 4, "%s.body_pose[%d]" % (ff, j), quat=True)
    return doc


def load_poses(path):
    if not os.path.isfile(path):
        raise InputError("%s: file not found" % path)
    try:
        with open(path) as f:
            doc = json.load(f, parse_constant=csm._json_constant)
    except ValueError as e:
        raise InputError("%s: not valid JSON: %s" % (path, e))
    return check_poses(doc, path)


# ----------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="Convert drivestudio's humanpose/smpl.pkl to gstrain's "
                    "humanpose/poses.json (format A), or --check a poses.json. "
                    "See docs/humanpose_format.md.")
    ap.add_argument("scene", nargs="?", help="street scene folder (drivestudio's layout)")
    ap.add_argument("--smpl", help="drivestudio's pickle (default SCENE/humanpose/smpl.pkl)")
    ap.add_argument("--output", "-o",
                    help="output file (default SCENE/humanpose/poses.json)")
    ap.add_argument("--body-template", metavar="FILE",
                    help="the format-B body template training uses (nodes.<node>.body_model)")
    ap.add_argument("--anchor", choices=("bbox", "pelvis"), default="bbox",
                    help="bbox (default, drivestudio): the posed body's box centre at the "
                         "annotated box centre; pelvis: the posed pelvis there")
    ap.add_argument("--rest-pelvis", type=float, nargs=3, metavar=("X", "Y", "Z"),
                    help="the template's rest pelvis J_0 (only for --anchor pelvis without "
                         "--body-template)")
    ap.add_argument("--aabb-frame", type=int, default=0,
                    help="--anchor bbox: the frame whose ego_pose axes the posed body's box is "
                         "taken in (drivestudio's data.start_timestep, default 0)")
    ap.add_argument("--camera-list", type=int, nargs="+", default=WAYMO_CAMERA_LIST,
                    help="the camera ids the extraction ran on, in order (selected_cam_idx "
                         "indexes it); default Waymo's 0 1 2 3 4")
    ap.add_argument("--loader", choices=("auto", "stdlib", "torch"), default="auto",
                    help="how to read smpl.pkl: torch (joblib/pickle with torch), stdlib (the "
                         "restricted reader, no torch needed), auto (torch when installed)")
    ap.add_argument("--betas-out", metavar="FILE",
                    help="also write each instance's shape coefficients (first valid frame, as "
                         "drivestudio uses them) as JSON {\"<id>\": [betas]}")
    ap.add_argument("--check", metavar="FILE", help="validate a poses.json (format A) and exit")
    args = ap.parse_args(argv)
    try:
        if args.check:
            doc = load_poses(args.check)
            n = sum(len(h["frames"]) for h in doc["humans"])
            print("%s: valid %s v%d: %d human(s), %d frame pose(s)"
                  % (args.check, POSES_FORMAT, POSES_VERSION, len(doc["humans"]), n))
            return 0
        if not args.scene:
            ap.error("need SCENE (or --check FILE)")
        if args.aabb_frame < 0:
            raise InputError("--aabb-frame: %d is negative" % args.aabb_frame)
        if args.rest_pelvis and not all(math.isfinite(v) for v in args.rest_pelvis):
            raise InputError("--rest-pelvis: not finite")
        return convert(args)
    except InputError as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 2
    except OSError as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
