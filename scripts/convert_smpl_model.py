#!/usr/bin/env python3
"""Convert an SMPL body model into gstrain's body template (format B, docs/humanpose_format.md).

    python3 scripts/convert_smpl_model.py SMPL_NEUTRAL.pkl OUT.json [--betas b0 b1 ...]
    python3 scripts/convert_smpl_model.py --check OUT.json

Input: the user's own SMPL model file (the licence does not allow shipping it):
  * SMPL_NEUTRAL.pkl / basicmodel_*_lbs_10_207_0_v1.*.pkl from smpl.is.tue.mpg.de, also the
    old Python-2 pickles with chumpy objects and a scipy.sparse J_regressor;
  * an .npz with the same keys (smplx's model files, np.savez of the pickle's dict).
Keys used: v_template (V×3), weights (V×24), J_regressor (24×V, dense or sparse),
kintree_table (2×24), shapedirs (V×3×B, only with --betas).

Output (format B): rest joints J = J_regressor · v (v = v_template + shapedirs · betas), the
rest vertices v, and per vertex the 4 joints of largest weight with their weights renormalised
to sum to 1.

Only the Python standard library is needed: pickles are read with a restricted unpickler that
maps numpy arrays, numpy scalars, scipy.sparse matrices and chumpy objects to small stand-ins
(no code from the file is run), and .npz members are parsed as .npy. When numpy/scipy/chumpy are
installed and the stand-ins cannot read a file, the real modules are tried as a fallback.

Exit codes: 0 written / valid, 2 a missing or malformed input, an SMPL model that is not SMPL's
24-joint tree, or (--check) an invalid template; the message names the file and the field.

The module is also imported by convert_drivestudio_humanpose.py (the stand-in unpickler, the
SMPL tree and the template checks).
"""

import argparse
import array
import ast
import io
import json
import math
import os
import pickle
import struct
import sys
import zipfile

PROG = "convert_smpl_model.py"

TEMPLATE_FORMAT = "gstrain-body-template"
TEMPLATE_VERSION = 1
JOINT_COUNT = 24
SKIN_INFLUENCES = 4
WEIGHT_SUM_TOLERANCE = 1e-3   # as the trainer's reader (datasets/body_template_file.cpp)

# SMPL's kinematic tree (parents[j] is the parent of joint j; −1 for the root) and joint names.
SMPL_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
SMPL_JOINT_NAMES = [
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
]

CHUMPY_RECIPE = (
    "convert the model once in an environment that has chumpy (pip install chumpy numpy scipy): "
    "either smplx's cleaner (python smplx/tools/clean_ch.py --input-models MODEL.pkl "
    "--output-folder OUT/) or in Python: "
    "d = pickle.load(open('MODEL.pkl','rb'), encoding='latin1'); "
    "numpy.savez('MODEL.npz', **{k: (v.toarray() if hasattr(v, 'toarray') else numpy.array(v)) "
    "for k, v in d.items() if k in ('v_template','weights','J_regressor','kintree_table',"
    "'shapedirs')}), then pass MODEL.npz")


class InputError(Exception):
    """A missing or malformed input: reported as 'message' with exit code 2."""


class UnsupportedPickle(InputError):
    """The pickle refers to a class the stand-in unpickler does not map."""


# ----------------------------------------------------------------------------------------------
# A minimal n-dimensional array (what numpy arrays, torch tensors and sparse matrices become)


class NDArray:
    """Elements in `data` (any indexable sequence), `shape`, strides in elements, offset."""

    def __init__(self, data, shape, strides=None, offset=0, kind="f"):
        self.data = data
        self.shape = tuple(int(s) for s in shape)
        if strides is None:
            strides = c_strides(self.shape)
        self.strides = tuple(int(s) for s in strides)
        self.offset = int(offset)
        self.kind = kind   # numpy dtype kind: f float, i/u integer, b bool, O object

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    def at(self, *idx):
        o = self.offset
        for i, s in zip(idx, self.strides):
            o += i * s
        return self.data[o]

    def flat(self):
        """The elements in C order, as a list."""
        if self.ndim == 0:
            return [self.data[self.offset]]
        if self.strides == c_strides(self.shape):
            return list(self.data[self.offset:self.offset + self.size])
        out = []
        _collect(self, 0, self.offset, out)
        return out

    def tolist(self):
        flat = self.flat()
        if self.ndim == 0:
            return flat[0]
        return _nest(flat, self.shape)


def c_strides(shape):
    strides = []
    acc = 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= int(s)
    return tuple(reversed(strides))


def f_strides(shape):
    strides = []
    acc = 1
    for s in shape:
        strides.append(acc)
        acc *= int(s)
    return tuple(strides)


def _collect(a, dim, off, out):
    if dim == a.ndim - 1:
        st = a.strides[dim]
        out.extend(a.data[off + i * st] for i in range(a.shape[dim]))
        return
    for i in range(a.shape[dim]):
        _collect(a, dim + 1, off + i * a.strides[dim], out)


def _nest(flat, shape):
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


# ---- dtypes and raw buffers


def parse_descr(descr):
    """'<f8', '|b1', 'f4', 'O8', '=i8' → (byteorder, kind, itemsize)."""
    if not isinstance(descr, str) or not descr:
        raise InputError("unsupported dtype %r (structured arrays are not supported)" % (descr,))
    order = "="
    if descr[0] in "<>|=":
        order, descr = descr[0], descr[1:]
    kind = descr[0]
    size = descr[1:]
    aliases = {"d": ("f", 8), "f": ("f", 4), "e": ("f", 2), "q": ("i", 8), "l": ("i", 8),
               "i": ("i", 4), "h": ("i", 2), "b": ("i", 1), "Q": ("u", 8), "L": ("u", 8),
               "I": ("u", 4), "H": ("u", 2), "B": ("u", 1), "?": ("b", 1), "O": ("O", 8)}
    if not size:
        if kind not in aliases:
            raise InputError("unsupported dtype %r" % descr)
        kind, itemsize = aliases[kind]
    else:
        try:
            itemsize = int(size)
        except ValueError:
            raise InputError("unsupported dtype %r" % descr)
    if kind not in "fiubO":
        raise InputError("unsupported dtype kind %r in %r" % (kind, descr))
    return order, kind, itemsize


def decode_buffer(raw, order, kind, itemsize):
    """Raw bytes → a sequence of Python numbers (array.array where possible)."""
    if isinstance(raw, str):            # a Python-2 str read with encoding='latin1'
        raw = raw.encode("latin1")
    raw = bytes(raw)
    if len(raw) % itemsize:
        raise InputError("raw data of %d bytes is not a multiple of the item size %d"
                         % (len(raw), itemsize))
    big = order == ">" or (order == "=" and sys.byteorder == "big")
    if kind == "f" and itemsize == 2:
        fmt = (">" if big else "<") + "%de" % (len(raw) // 2)
        return list(struct.unpack(fmt, raw))
    if kind == "f" and itemsize == 16:
        raise InputError("float128 data is not supported")
    code = None
    if kind == "f":
        code = {4: "f", 8: "d"}.get(itemsize)
    elif kind in "ib":
        for c in ("b", "h", "i", "l", "q"):
            if array.array(c).itemsize == itemsize:
                code = c
                break
    elif kind == "u":
        for c in ("B", "H", "I", "L", "Q"):
            if array.array(c).itemsize == itemsize:
                code = c
                break
    if code is None:
        raise InputError("unsupported dtype kind %r of %d bytes" % (kind, itemsize))
    if kind == "b":
        code = "B"
    a = array.array(code)
    a.frombytes(raw)
    if itemsize > 1 and big != (sys.byteorder == "big"):
        a.byteswap()
    return a


# ----------------------------------------------------------------------------------------------
# Stand-ins for the classes a pickle may name


class _NpDType:
    """numpy.dtype(obj, align, copy) + __setstate__ (state[1] is the byte order)."""

    def __init__(self, obj="f8", align=False, copy=True):
        self.obj = obj if isinstance(obj, str) else str(obj)
        self.order = "="

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) > 1 and isinstance(state[1], str):
            self.order = state[1]

    def parsed(self):
        order, kind, size = parse_descr(self.obj)
        if self.order in "<>|":
            order = self.order
        return order, kind, size


class _NpArrayPlaceholder:
    """What numpy.ndarray / numpy.matrix resolve to (only ever passed as a subtype)."""


class _NpArray(NDArray):
    """Built by numpy.core.multiarray._reconstruct, filled by __setstate__."""

    def __init__(self):
        NDArray.__init__(self, [], (0,))

    def __setstate__(self, state):
        # (version, shape, dtype, is_fortran, rawdata) or, before version 1, without version.
        if not isinstance(state, tuple):
            raise InputError("numpy array state is not a tuple")
        if len(state) == 5:
            _, shape, dtype, is_fortran, raw = state
        elif len(state) == 4:
            shape, dtype, is_fortran, raw = state
        else:
            raise InputError("numpy array state has %d fields" % len(state))
        if not isinstance(dtype, _NpDType):
            raise InputError("numpy array without a dtype")
        order, kind, size = dtype.parsed()
        shape = tuple(int(s) for s in shape)
        if kind == "O":
            data = list(raw)
        else:
            data = decode_buffer(raw, order, kind, size)
        n = 1
        for s in shape:
            n *= s
        if len(data) != n:
            raise InputError("numpy array of shape %s holds %d elements" % (shape, len(data)))
        NDArray.__init__(self, data, shape, f_strides(shape) if is_fortran else None, 0, kind)


def _np_reconstruct(subtype=None, shape=(0,), dtype=None):
    return _NpArray()


def _np_scalar(dtype, data=None):
    if not isinstance(dtype, _NpDType):
        raise InputError("numpy scalar without a dtype")
    order, kind, size = dtype.parsed()
    if kind == "O":
        return data
    vals = decode_buffer(data, order, kind, size)
    v = vals[0]
    return bool(v) if kind == "b" else v


def _np_frombuffer(buf, dtype, shape, order="C"):
    o, kind, size = dtype.parsed()
    data = decode_buffer(bytes(buf), o, kind, size)
    shape = tuple(int(s) for s in shape)
    return NDArray(data, shape, f_strides(shape) if order == "F" else None, 0, kind)


class _SparseStandIn:
    """scipy.sparse.{csc,csr,coo}_matrix: attributes come from the pickled __dict__."""

    sparse_format = None

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:   # (dict, slotstate)
            state = dict(state[0] or {}, **(state[1] or {}))
        self.__dict__.update(state)


def _sparse_class(name):
    fmt = name.split("_")[0]
    return type(name, (_SparseStandIn,), {"sparse_format": fmt})


class _ChumpyStandIn:
    """Any chumpy class: keeps the pickled __dict__; a plain Ch holds its value in 'x'."""

    chumpy_class = "Ch"

    def __setstate__(self, state):
        if isinstance(state, dict):
            self.__dict__.update(state)


def _chumpy_class(module, name):
    return type(name, (_ChumpyStandIn,), {"chumpy_class": module + "." + name})


# ---- torch (for convert_drivestudio_humanpose.py: drivestudio's smpl.pkl holds torch tensors)

_TORCH_STORAGE_DTYPES = {
    "DoubleStorage": ("f", 8), "FloatStorage": ("f", 4), "HalfStorage": ("f", 2),
    "BFloat16Storage": ("bf", 2), "LongStorage": ("i", 8), "IntStorage": ("i", 4),
    "ShortStorage": ("i", 2), "CharStorage": ("i", 1), "ByteStorage": ("u", 1),
    "BoolStorage": ("b", 1), "UntypedStorage": ("u", 1),
}


class _TorchStorageType:
    def __init__(self, name):
        self.name = name
        self.kind, self.itemsize = _TORCH_STORAGE_DTYPES[name]


class _TorchStorage:
    def __init__(self, stype, numel):
        self.stype = stype
        self.numel = int(numel)
        self.data = None

    def fill(self, raw, little_endian=True):
        if self.stype.kind == "bf":   # bfloat16: the high half of a float32
            n = len(raw) // 2
            halves = struct.unpack(("<" if little_endian else ">") + "%dH" % n, raw)
            self.data = [struct.unpack("<f", struct.pack("<I", h << 16))[0] for h in halves]
        else:
            self.data = decode_buffer(raw, "<" if little_endian else ">", self.stype.kind,
                                      self.stype.itemsize)


_TORCH_MAGIC = 0x1950a86a20f9469cfc6c


def _torch_load_from_bytes(b):
    """torch.storage._load_from_bytes: the legacy (non-zip) torch.save stream of one storage,
    as TypedStorage.__reduce__ writes it (torch/storage.py; torch/serialization.py
    _legacy_save): pickles of the magic number, the protocol version and sys_info, then the
    object pickled with persistent ids ('storage', storage_type, key, location, numel,
    view_metadata), a pickle of the sorted storage keys, and per key an int64 element count
    followed by the raw elements."""
    if isinstance(b, str):
        b = b.encode("latin1")
    if b[:2] == b"PK":
        raise InputError("a torch storage in torch's zip format (expected the legacy stream "
                         "that pickling a tensor writes); load the file with torch instead "
                         "(--loader torch)")
    f = io.BytesIO(b)
    magic = StandInUnpickler(f).load()
    if magic != _TORCH_MAGIC:
        raise InputError("a torch storage without torch's magic number")
    StandInUnpickler(f).load()               # protocol version (1001)
    sys_info = StandInUnpickler(f).load()
    little = True
    if isinstance(sys_info, dict):
        little = bool(sys_info.get("little_endian", True))
    storages = {}

    def persistent_load(pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise InputError("unexpected persistent id %r in a torch storage" % (pid,))
        _, stype, key, _location, numel, view = pid
        if not isinstance(stype, _TorchStorageType):
            raise InputError("unknown torch storage type %r" % (stype,))
        if key not in storages:
            storages[key] = _TorchStorage(stype, numel)
        root = storages[key]
        if view is not None:
            view_key, off, size = view
            return ("view", root, int(off), int(size), view_key)
        return root

    inner = StandInUnpickler(f)
    inner.persistent_load = persistent_load
    obj = inner.load()
    keys = StandInUnpickler(f).load()
    for key in keys:
        if key not in storages:
            raise InputError("torch storage key %r has no storage" % (key,))
        st = storages[key]
        head = f.read(8)
        if len(head) != 8:
            raise InputError("truncated torch storage")
        numel = struct.unpack("<q" if little else ">q", head)[0]
        size = st.stype.itemsize
        raw = f.read(numel * size)
        if len(raw) != numel * size:
            raise InputError("truncated torch storage: %d of %d bytes"
                             % (len(raw), numel * size))
        st.fill(raw, little)
    if isinstance(obj, tuple) and obj and obj[0] == "view":
        _, root, off, size, _ = obj
        view = _TorchStorage(root.stype, size // root.stype.itemsize)
        start = off // root.stype.itemsize
        view.data = root.data[start:start + view.numel]
        return view
    if not isinstance(obj, _TorchStorage):
        raise InputError("a torch storage stream that holds %s" % type(obj).__name__)
    if obj.data is None:
        raise InputError("a torch storage without data")
    return obj


def _torch_rebuild_tensor(storage, storage_offset, size, stride, *rest):
    """torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
    backward_hooks[, metadata]) and _rebuild_tensor(storage, offset, size, stride)."""
    if not isinstance(storage, _TorchStorage):
        raise InputError("a tensor without a storage")
    kind = storage.stype.kind
    return NDArray(storage.data, size, stride, storage_offset,
                   "f" if kind == "bf" else kind)


def _torch_rebuild_from_type(func, new_type, args, state):
    return func(*args)


def _torch_rebuild_parameter(data, requires_grad, backward_hooks, *rest):
    return data


class _JoblibArrayWrapper:
    """joblib.numpy_pickle.NumpyArrayWrapper: its array follows the BUILD in the stream."""

    def __setstate__(self, state):
        self.__dict__.update(state)


_SAFE_BUILTINS = {
    ("builtins", n) for n in (
        "set", "frozenset", "list", "dict", "tuple", "object", "int", "float", "complex",
        "bool", "str", "bytes", "bytearray", "slice", "range")
} | {("copyreg", "_reconstructor"), ("_codecs", "encode"), ("collections", "OrderedDict"),
     ("collections", "defaultdict")}


class StandInUnpickler(pickle._Unpickler):
    """A restricted unpickler: numpy/scipy.sparse/chumpy/torch classes become stand-ins and
    nothing else outside a few builtins is resolved (no code from the file runs). The pure-Python
    unpickler is used so that joblib's inline arrays can be read after their BUILD."""

    def __init__(self, f):
        pickle._Unpickler.__init__(self, f, encoding="latin1")
        self._raw_file = f

    def find_class(self, module, name):
        if (module, name) in _SAFE_BUILTINS:
            return pickle._Unpickler.find_class(self, module, name)
        if module == "__builtin__":
            return self.find_class("builtins", name)
        if module == "copy_reg":
            return self.find_class("copyreg", name)
        top = module.split(".")[0]
        if top == "numpy":
            if name == "_reconstruct":
                return _np_reconstruct
            if name in ("ndarray", "matrix", "memmap"):
                return _NpArrayPlaceholder
            if name == "dtype" or name.endswith("DType"):
                return _NpDType
            if name == "scalar":
                return _np_scalar
            if name == "_frombuffer":
                return _np_frombuffer
        elif top == "scipy" and module.startswith("scipy.sparse"):
            if name in ("csc_matrix", "csr_matrix", "coo_matrix", "csc_array", "csr_array",
                        "coo_array"):
                return _sparse_class(name)
        elif top == "chumpy":
            return _chumpy_class(module, name)
        elif top == "torch":
            if name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
                return _torch_rebuild_tensor
            if name == "_rebuild_from_type_v2":
                return _torch_rebuild_from_type
            if name == "_rebuild_parameter":
                return _torch_rebuild_parameter
            if name == "_load_from_bytes":
                return _torch_load_from_bytes
            if name in _TORCH_STORAGE_DTYPES:
                return _TorchStorageType(name)
        elif top == "joblib" and name == "NumpyArrayWrapper":
            return _JoblibArrayWrapper
        raise UnsupportedPickle("the pickle refers to %s.%s, which this reader does not know"
                                % (module, name))

    def load_build(self):
        pickle._Unpickler.load_build(self)
        top = self.stack[-1]
        if isinstance(top, _JoblibArrayWrapper):
            self.stack[-1] = self._read_joblib_array(top)

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = load_build

    def _read_joblib_array(self, w):
        """joblib/numpy_pickle.py NumpyArrayWrapper.read_array: an optional alignment padding
        (one length byte, then that many bytes), then the elements in w.order."""
        dtype = w.__dict__.get("dtype")
        shape = tuple(int(s) for s in w.__dict__.get("shape", ()))
        if not isinstance(dtype, _NpDType):
            raise InputError("joblib array without a dtype")
        order, kind, size = dtype.parsed()
        f = self._raw_file
        if kind == "O":
            arr = StandInUnpickler(f).load()
            return arr
        if w.__dict__.get("numpy_array_alignment_bytes") is not None:
            pad = f.read(1)
            if len(pad) != 1:
                raise InputError("truncated joblib array")
            f.read(pad[0])
        n = 1
        for s in shape:
            n *= s
        raw = f.read(n * size)
        if len(raw) != n * size:
            raise InputError("truncated joblib array: %d of %d bytes" % (len(raw), n * size))
        data = decode_buffer(raw, order, kind, size)
        fortran = w.__dict__.get("order", "C") == "F"
        return NDArray(data, shape, f_strides(shape) if fortran else None, 0, kind)


def load_pickle_standin(path):
    with open(path, "rb") as f:
        try:
            return StandInUnpickler(f).load()
        except InputError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError,
                IndexError, AttributeError, struct.error) as e:
            raise InputError("cannot read the pickle: %s: %s" % (type(e).__name__, e))


# ---- .npy / .npz


def read_npy(raw, what):
    if raw[:6] != b"\x93NUMPY":
        raise InputError("%s: not an .npy member (no \\x93NUMPY magic)" % what)
    major = raw[6]
    if major == 1:
        hlen = struct.unpack("<H", raw[8:10])[0]
        start = 10
    elif major in (2, 3):
        hlen = struct.unpack("<I", raw[8:12])[0]
        start = 12
    else:
        raise InputError("%s: .npy version %d is not supported" % (what, major))
    try:
        header = ast.literal_eval(raw[start:start + hlen].decode("latin1"))
    except (ValueError, SyntaxError) as e:
        raise InputError("%s: bad .npy header: %s" % (what, e))
    body = raw[start + hlen:]
    descr = header.get("descr")
    shape = tuple(header.get("shape", ()))
    fortran = bool(header.get("fortran_order", False))
    order, kind, size = parse_descr(descr)
    if kind == "O":
        obj = StandInUnpickler(io.BytesIO(body)).load()
        if isinstance(obj, NDArray) and obj.ndim == 0:
            return obj.data[0]
        return obj
    n = 1
    for s in shape:
        n *= s
    data = decode_buffer(body[:n * size], order, kind, size)
    if len(data) != n:
        raise InputError("%s: %d elements for shape %s" % (what, len(data), shape))
    return NDArray(data, shape, f_strides(shape) if fortran else None, 0, kind)


def load_npz(path):
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError("%s: not an .npz (zip) file: %s" % (path, e))
    out = {}
    with zf:
        for name in zf.namelist():
            if not name.endswith(".npy"):
                continue
            out[name[:-4]] = read_npy(zf.read(name), "%s: %s" % (path, name))
    return out


def _load_real_pickle(path):
    """Fallback with the real modules (numpy, scipy, chumpy) when they are installed."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return None
    with open(path, "rb") as f:
        try:
            return pickle.load(f, encoding="latin1")
        except Exception:
            return None


def load_model(path):
    if not os.path.isfile(path):
        raise InputError("%s: file not found" % path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"PK":
        return load_npz(path)
    try:
        obj = load_pickle_standin(path)
    except UnsupportedPickle as e:
        real = _load_real_pickle(path)
        if real is None:
            raise InputError("%s: %s; %s" % (path, e, CHUMPY_RECIPE))
        obj = real
    except InputError as e:
        raise InputError("%s: %s" % (path, e))
    if not isinstance(obj, dict):
        raise InputError("%s: the model is a %s, expected a dict of arrays"
                         % (path, type(obj).__name__))
    return obj


# ----------------------------------------------------------------------------------------------
# Turning whatever the loader produced into NDArray


def to_ndarray(value, what):
    """NDArray, chumpy stand-in ('x'), sparse stand-in (densified), real numpy/scipy/torch
    objects or nested lists → NDArray. Raises InputError naming `what`."""
    if isinstance(value, NDArray):
        return value
    if isinstance(value, _ChumpyStandIn):
        x = value.__dict__.get("x")
        if isinstance(x, (NDArray, list, tuple)) or _is_real_array(x):
            return to_ndarray(x, what)
        raise InputError("%s is a chumpy %s object whose value cannot be read without chumpy; "
                         "%s" % (what, value.chumpy_class, CHUMPY_RECIPE))
    if isinstance(value, _SparseStandIn):
        return sparse_to_dense(value, what)
    if hasattr(value, "toarray") and callable(value.toarray):          # real scipy.sparse
        value = value.toarray()
    if "chumpy" in type(value).__module__:                              # real chumpy
        value = getattr(value, "r", value)
    if hasattr(value, "detach") and hasattr(value, "cpu"):              # real torch tensor
        shape = tuple(int(s) for s in value.shape)
        return NDArray(value.detach().cpu().reshape(-1).tolist(), shape)
    if _is_real_array(value):
        shape = tuple(int(s) for s in value.shape)
        kind = value.dtype.kind
        flat = value.reshape(-1).tolist()
        return NDArray(flat, shape, None, 0, kind if kind in "fiubO" else "f")
    if isinstance(value, (list, tuple)):
        flat, shape = _flatten_nested(value, what)
        return NDArray(flat, shape)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return NDArray([value], ())
    raise InputError("%s: expected an array, found %s" % (what, type(value).__name__))


def _is_real_array(x):
    return (x is not None and hasattr(x, "shape") and hasattr(x, "dtype")
            and hasattr(x, "reshape") and not isinstance(x, NDArray))


def _flatten_nested(v, what):
    if not isinstance(v, (list, tuple)):
        return [v], ()
    if not v:
        return [], (0,)
    parts = [_flatten_nested(e, what) for e in v]
    shape = parts[0][1]
    flat = []
    for p, s in parts:
        if s != shape:
            raise InputError("%s: ragged nested list" % what)
        flat.extend(p)
    return flat, (len(v),) + shape


def sparse_to_dense(sp, what):
    d = sp.__dict__
    shape = d.get("_shape", d.get("shape"))
    if shape is None or len(shape) != 2:
        raise InputError("%s: a sparse matrix without a 2-d shape" % what)
    rows, cols = int(shape[0]), int(shape[1])
    dense = [0.0] * (rows * cols)
    fmt = sp.sparse_format
    if fmt in ("csc", "csr"):
        data = to_ndarray(d.get("data"), what + ".data").flat()
        indices = to_ndarray(d.get("indices"), what + ".indices").flat()
        indptr = to_ndarray(d.get("indptr"), what + ".indptr").flat()
        major = cols if fmt == "csc" else rows
        if len(indptr) != major + 1:
            raise InputError("%s: %s indptr has %d entries for %d %s"
                             % (what, fmt, len(indptr), major,
                                "columns" if fmt == "csc" else "rows"))
        for m in range(major):
            for k in range(int(indptr[m]), int(indptr[m + 1])):
                i = int(indices[k])
                r, c = (i, m) if fmt == "csc" else (m, i)
                if not (0 <= r < rows and 0 <= c < cols):
                    raise InputError("%s: sparse index out of range" % what)
                dense[r * cols + c] += float(data[k])
    elif fmt == "coo":
        data = to_ndarray(d.get("data"), what + ".data").flat()
        if "coords" in d:                       # newer scipy: coords = (row, col)
            row, col = d["coords"][0], d["coords"][1]
        else:
            row, col = d.get("row"), d.get("col")
        row = to_ndarray(row, what + ".row").flat()
        col = to_ndarray(col, what + ".col").flat()
        for v, r, c in zip(data, row, col):
            dense[int(r) * cols + int(c)] += float(v)
    else:
        raise InputError("%s: sparse format %r is not supported" % (what, fmt))
    return NDArray(dense, (rows, cols))


# ----------------------------------------------------------------------------------------------
# The conversion


def finite(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def kintree_parents(kintree, src):
    """kintree_table (2×24: parents, joint ids) → parents list; InputError naming what's wrong."""
    if kintree.ndim != 2 or kintree.shape[0] != 2:
        raise InputError("%s: kintree_table has shape %s, expected 2×24" % (src, kintree.shape))
    n = kintree.shape[1]
    if n != JOINT_COUNT:
        hint = ""
        if n == 52:
            hint = " (SMPL-H?)"
        elif n == 55:
            hint = " (SMPL-X?)"
        raise InputError("%s: kintree_table has %d joints, SMPL has 24%s; only SMPL's 24-joint "
                         "body model is supported" % (src, n, hint))
    ids = [int(kintree.at(1, j)) for j in range(n)]
    if ids != list(range(JOINT_COUNT)):
        raise InputError("%s: kintree_table row 1 (joint ids) is %s, expected 0..23 in order"
                         % (src, ids))
    parents = [int(kintree.at(0, j)) for j in range(n)]
    if 0 <= parents[0] < JOINT_COUNT:
        raise InputError("%s: kintree_table: the root (joint 0, pelvis) has parent %d, expected "
                         "none (-1 or 4294967295)" % (src, parents[0]))
    parents[0] = -1
    for j in range(1, JOINT_COUNT):
        if parents[j] != SMPL_PARENTS[j]:
            pname = (SMPL_JOINT_NAMES[parents[j]] if 0 <= parents[j] < JOINT_COUNT
                     else "none")
            raise InputError(
                "%s: kintree_table: joint %d (%s) has parent %d (%s), SMPL's tree has %d (%s)"
                % (src, j, SMPL_JOINT_NAMES[j], parents[j], pname, SMPL_PARENTS[j],
                   SMPL_JOINT_NAMES[SMPL_PARENTS[j]]))
    return parents


def build_template(model, src, betas=None):
    def need(key):
        if key not in model:
            raise InputError("%s: the model has no '%s' (keys: %s)"
                             % (src, key, ", ".join(sorted(str(k) for k in model))))
        return to_ndarray(model[key], "%s: %s" % (src, key))

    vt = need("v_template")
    if vt.ndim != 2 or vt.shape[1] != 3 or vt.shape[0] < 1:
        raise InputError("%s: v_template has shape %s, expected V×3" % (src, vt.shape))
    V = vt.shape[0]
    weights = need("weights")
    if weights.ndim != 2 or weights.shape[0] != V:
        raise InputError("%s: weights has shape %s, expected %d×24 (V from v_template)"
                         % (src, weights.shape, V))
    if weights.shape[1] != JOINT_COUNT:
        raise InputError("%s: weights has %d joints, SMPL has 24" % (src, weights.shape[1]))
    jr = need("J_regressor")
    if jr.ndim != 2 or jr.shape != (JOINT_COUNT, V):
        raise InputError("%s: J_regressor has shape %s, expected 24×%d"
                         % (src, jr.shape, V))
    parents = kintree_parents(need("kintree_table"), src)

    verts = [[float(vt.at(i, c)) for c in range(3)] for i in range(V)]
    if betas:
        sd = need("shapedirs")
        if sd.ndim != 3 or sd.shape[0] != V or sd.shape[1] != 3:
            raise InputError("%s: shapedirs has shape %s, expected %d×3×B" % (src, sd.shape, V))
        if len(betas) > sd.shape[2]:
            raise InputError("--betas: %d coefficients given, the model has %d shape components"
                             % (len(betas), sd.shape[2]))
        for i in range(V):
            for c in range(3):
                verts[i][c] += sum(sd.at(i, c, k) * b for k, b in enumerate(betas))
    for i, v in enumerate(verts):
        if not all(finite(x) for x in v):
            raise InputError("%s: vertex %d is not finite" % (src, i))

    # J = J_regressor · v (row j: Σ_i r_ji v_i).
    joints = []
    for j in range(JOINT_COUNT):
        acc = [0.0, 0.0, 0.0]
        for i in range(V):
            r = jr.at(j, i)
            if r:
                acc[0] += r * verts[i][0]
                acc[1] += r * verts[i][1]
                acc[2] += r * verts[i][2]
        joints.append(acc)
    for j, p in enumerate(joints):
        if not all(finite(x) for x in p):
            raise InputError("%s: joint %d (%s) from J_regressor is not finite"
                             % (src, j, SMPL_JOINT_NAMES[j]))

    skin_joints, skin_weights = [], []
    for i in range(V):
        row = [float(weights.at(i, j)) for j in range(JOINT_COUNT)]
        if not all(finite(w) for w in row):
            raise InputError("%s: weights[%d] is not finite" % (src, i))
        order = sorted(range(JOINT_COUNT), key=lambda j: (-row[j], j))[:SKIN_INFLUENCES]
        top = [max(row[j], 0.0) for j in order]
        s = sum(top)
        if s <= 0.0:
            raise InputError("%s: weights[%d]: no joint has a positive weight" % (src, i))
        skin_joints.append(order)
        skin_weights.append([w / s for w in top])

    return {
        "format": TEMPLATE_FORMAT,
        "version": TEMPLATE_VERSION,
        "joint_count": JOINT_COUNT,
        "parents": parents,
        "joints": joints,
        "vertices": verts,
        "skin_joints": skin_joints,
        "skin_weights": skin_weights,
    }


# ----------------------------------------------------------------------------------------------
# Writing and checking format B


def fmt_num(x):
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    s = format(float(x), ".9g")
    if s == "-0":
        s = "0"
    return s


def fmt_list(v):
    return "[" + ", ".join(fmt_num(x) for x in v) + "]"


def write_template(doc, path):
    lines = ["{"]
    lines.append('  "format": %s,' % json.dumps(doc["format"]))
    lines.append('  "version": %d,' % doc["version"])
    lines.append('  "joint_count": %d,' % doc["joint_count"])
    lines.append('  "parents": %s,' % fmt_list(doc["parents"]))
    for key in ("joints", "vertices", "skin_joints", "skin_weights"):
        rows = doc[key]
        lines.append('  "%s": [' % key)
        for k, r in enumerate(rows):
            lines.append("    " + fmt_list(r) + ("," if k + 1 < len(rows) else ""))
        lines.append("  ]" + ("," if key != "skin_weights" else ""))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _json_constant(name):
    raise ValueError("non-finite number %s" % name)


def load_template(path):
    """Read and validate a format-B file; returns the dict. InputError names the field."""
    if not os.path.isfile(path):
        raise InputError("%s: file not found" % path)
    try:
        with open(path) as f:
            doc = json.load(f, parse_constant=_json_constant)
    except ValueError as e:
        raise InputError("%s: not valid JSON: %s" % (path, e))
    check_template(doc, path)
    return doc


def check_template(doc, src):
    def fail(field, msg):
        raise InputError("%s: %s: %s" % (src, field, msg))

    if not isinstance(doc, dict):
        raise InputError("%s: expected a JSON object" % src)
    if doc.get("format") != TEMPLATE_FORMAT:
        fail("format", "is %r, expected %r" % (doc.get("format"), TEMPLATE_FORMAT))
    if doc.get("version") != TEMPLATE_VERSION:
        fail("version", "is %r, expected %d" % (doc.get("version"), TEMPLATE_VERSION))
    if doc.get("joint_count") != JOINT_COUNT:
        fail("joint_count", "is %r, expected 24" % (doc.get("joint_count"),))
    parents = doc.get("parents")
    if not isinstance(parents, list) or len(parents) != JOINT_COUNT:
        fail("parents", "expected 24 integers")
    for j, p in enumerate(parents):
        if p != SMPL_PARENTS[j] or isinstance(p, bool):
            fail("parents[%d] (%s)" % (j, SMPL_JOINT_NAMES[j]),
                 "is %r, SMPL's tree has %d (%s)"
                 % (p, SMPL_PARENTS[j], SMPL_JOINT_NAMES[SMPL_PARENTS[j]]
                    if SMPL_PARENTS[j] >= 0 else "none: the root"))

    def rows(key, n, width, number_check, count=None):
        v = doc.get(key)
        if not isinstance(v, list):
            fail(key, "missing or not an array")
        if count is not None and len(v) != count:
            fail(key, "has %d rows, expected %d" % (len(v), count))
        if count is None and len(v) < 1:
            fail(key, "is empty")
        for i, r in enumerate(v):
            if not isinstance(r, list) or len(r) != width:
                fail("%s[%d]" % (key, i), "expected %d numbers" % width)
            for c, x in enumerate(r):
                err = number_check(x)
                if err:
                    fail("%s[%d][%d]" % (key, i, c), err)
        return v

    def real(x):
        return None if finite(x) else "%r is not a finite number" % (x,)

    def joint_index(x):
        if isinstance(x, bool) or not isinstance(x, int):
            return "%r is not an integer" % (x,)
        return None if 0 <= x < JOINT_COUNT else "joint %d is outside 0..23" % x

    def weight(x):
        if not finite(x):
            return "%r is not a finite number" % (x,)
        return None if x >= 0 else "negative weight %r" % x

    rows("joints", JOINT_COUNT, 3, real, JOINT_COUNT)
    verts = rows("vertices", None, 3, real)
    V = len(verts)
    sj = rows("skin_joints", V, SKIN_INFLUENCES, joint_index, V)
    sw = rows("skin_weights", V, SKIN_INFLUENCES, weight, V)
    for i in range(V):
        s = sum(sw[i])
        if abs(s - 1.0) > WEIGHT_SUM_TOLERANCE:
            fail("skin_weights[%d]" % i, "weights sum to %.6g, expected 1 (within %g)"
                 % (s, WEIGHT_SUM_TOLERANCE))
    return doc


# ----------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="Convert an SMPL model (.pkl/.npz) to gstrain's body template (format B), "
                    "or --check a format-B file. See docs/humanpose_format.md.")
    ap.add_argument("model", nargs="?", help="SMPL model file (.pkl or .npz)")
    ap.add_argument("output", nargs="?", help="output template (.json)")
    ap.add_argument("--betas", type=float, nargs="+", default=None,
                    help="shape coefficients applied with the model's shapedirs before J is "
                         "regressed (default: the mean shape)")
    ap.add_argument("--check", metavar="FILE", help="validate a format-B file and exit")
    args = ap.parse_args(argv)
    try:
        if args.check:
            if args.model or args.output:
                ap.error("--check takes no other arguments")
            doc = load_template(args.check)
            print("%s: valid %s v%d: %d vertices, 24 joints"
                  % (args.check, TEMPLATE_FORMAT, TEMPLATE_VERSION, len(doc["vertices"])))
            return 0
        if not args.model or not args.output:
            ap.error("need MODEL and OUTPUT (or --check FILE)")
        if args.betas and not all(finite(b) for b in args.betas):
            raise InputError("--betas: not finite")
        model = load_model(args.model)
        doc = build_template(model, args.model, args.betas)
        check_template(doc, args.output)
        write_template(doc, args.output)
        print("%s: wrote %d vertices, 24 joints%s" % (
            args.output, len(doc["vertices"]),
            (" (betas %s)" % " ".join(fmt_num(b) for b in args.betas)) if args.betas else ""))
        return 0
    except InputError as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 2
    except OSError as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
