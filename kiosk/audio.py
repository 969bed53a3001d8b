"""Is an upload really a voice recording?  The container is read, not the label.

The voice page records with the browser's MediaRecorder (``kiosk/static/js/voice.js``), which
makes one of:

* **WebM** (Chromium, Edge; Firefox too): an EBML header with DocType ``webm``, then a Segment
  whose Tracks come before the Clusters of SimpleBlocks.
* **Ogg** (Firefox): pages starting ``OggS``; the first page is a beginning-of-stream page
  whose packet is ``OpusHead``.
* **MP4** (Safari; Chromium when asked): ISO-BMFF boxes from ``ftyp``, a ``moov`` whose tracks'
  ``hdlr`` say ``soun``, and the media data (``mdat``).

A file passes only if its whole structure holds together -- every element or box fits inside
its parent and the file, every WebM block belongs to a track, every Ogg page header chains to
the next (the first page's CRC is checked) -- and every track is audio: a video, or a video
with sound, is refused, as is anything else labelled ``audio/*``.  WAV is not accepted: no
browser's MediaRecorder makes it, so the kiosk's page never sends one.

Pure functions over bytes (the upload is already capped in size); nothing is decoded.
"""
from __future__ import annotations

import struct

__all__ = ["recorded_audio_type"]


class _Malformed(ValueError):
    """The bytes do not hold together as the container they start like."""


def recorded_audio_type(data: bytes) -> str | None:
    """``audio/webm``, ``audio/ogg`` or ``audio/mp4`` if ``data`` is such a recording of
    audio only; None for anything else."""
    try:
        if data.startswith(_EBML_MAGIC):
            _check_webm(data)
            return "audio/webm"
        if data.startswith(b"OggS"):
            _check_ogg(data)
            return "audio/ogg"
        if data[4:8] == b"ftyp":
            _check_mp4(data)
            return "audio/mp4"
    except (_Malformed, IndexError, struct.error, UnicodeDecodeError):
        return None
    return None


# -- WebM (EBML) --------------------------------------------------------------------------------

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML = 0x1A45DFA3
_DOC_TYPE = 0x4282
_SEGMENT = 0x18538067
_TRACKS = 0x1654AE6B
_TRACK_ENTRY = 0xAE
_TRACK_NUMBER = 0xD7
_TRACK_TYPE = 0x83
_CODEC_ID = 0x86
_CLUSTER = 0x1F43B675
_SIMPLE_BLOCK = 0xA3
_BLOCK_GROUP = 0xA0
_BLOCK = 0xA1
#: Segment children: an unknown-size Cluster ends where one of these begins.
_SEGMENT_CHILDREN = {0x114D9B74, 0x1549A966, _TRACKS, _CLUSTER, 0x1C53BB6B, 0x1941A469,
                     0x1043A770, 0x1254C367, 0xEC}
_AUDIO_TRACK = 2


def _vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int | None, int]:
    """An EBML variable-length integer at ``pos``: (value, next position); value None means
    "unknown size" (all value bits set)."""
    first = data[pos]
    if first == 0:
        raise _Malformed("EBML number longer than 8 bytes")
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        raise _Malformed("EBML number past the end")
    value = int.from_bytes(data[pos:pos + length], "big")
    if keep_marker:
        return value, pos + length
    value &= (1 << (7 * length)) - 1
    if value == (1 << (7 * length)) - 1:
        return None, pos + length
    return value, pos + length


def _element(data: bytes, pos: int, end: int) -> tuple[int, int, int | None]:
    """(id, start of payload, end of payload or None for unknown size) of the element at pos."""
    element_id, pos = _vint(data, pos, keep_marker=True)
    size, pos = _vint(data, pos, keep_marker=False)
    if size is not None and pos + size > end:
        raise _Malformed("EBML element runs past its parent")
    return element_id, pos, (None if size is None else pos + size)


def _children(data: bytes, start: int, end: int):
    pos = start
    while pos < end:
        element_id, payload, payload_end = _element(data, pos, end)
        if payload_end is None:
            raise _Malformed("unknown size where a size is required")
        yield element_id, payload, payload_end
        pos = payload_end


def _check_webm(data: bytes) -> None:
    element_id, payload, header_end = _element(data, 0, len(data))
    if element_id != _EBML or header_end is None:
        raise _Malformed("no EBML header")
    doc_types = [data[s:e].rstrip(b"\0") for i, s, e in _children(data, payload, header_end)
                 if i == _DOC_TYPE]
    if doc_types != [b"webm"]:
        raise _Malformed("not a WebM document")
    element_id, pos, segment_end = _element(data, header_end, len(data))
    if element_id != _SEGMENT:
        raise _Malformed("no Segment after the header")
    end = len(data) if segment_end is None else segment_end
    tracks: set[int] | None = None
    blocks = 0
    while pos < end:
        element_id, payload, payload_end = _element(data, pos, end)
        if element_id == _TRACKS:
            if payload_end is None:
                raise _Malformed("Tracks of unknown size")
            tracks = _audio_tracks(data, payload, payload_end)
            pos = payload_end
        elif element_id == _CLUSTER:
            if tracks is None:
                raise _Malformed("a Cluster before the Tracks")
            pos, found = _cluster(data, payload, payload_end, end, tracks)
            blocks += found
        elif payload_end is None:
            raise _Malformed("unknown size outside a Cluster")
        else:
            pos = payload_end
    if not blocks:
        raise _Malformed("no recorded audio")


def _audio_tracks(data: bytes, start: int, end: int) -> set[int]:
    numbers = set()
    for element_id, payload, payload_end in _children(data, start, end):
        if element_id != _TRACK_ENTRY:
            continue
        fields = {i: data[s:e] for i, s, e in _children(data, payload, payload_end)}
        track_type = int.from_bytes(fields.get(_TRACK_TYPE, b""), "big")
        codec = fields.get(_CODEC_ID, b"").decode("ascii")
        if track_type != _AUDIO_TRACK or not codec.startswith("A_"):
            raise _Malformed("a track that is not audio")
        numbers.add(int.from_bytes(fields.get(_TRACK_NUMBER, b""), "big"))
    if not numbers:
        raise _Malformed("no audio track")
    return numbers


def _cluster(data: bytes, pos: int, cluster_end: int | None, end: int,
             tracks: set[int]) -> tuple[int, int]:
    """Walk one Cluster (MediaRecorder writes them with unknown size); (next pos, blocks)."""
    limit = end if cluster_end is None else cluster_end
    blocks = 0
    while pos < limit:
        element_id, _ = _vint(data, pos, keep_marker=True)
        if cluster_end is None and element_id in _SEGMENT_CHILDREN:
            return pos, blocks
        element_id, payload, payload_end = _element(data, pos, limit)
        if payload_end is None:
            raise _Malformed("unknown size inside a Cluster")
        if element_id == _SIMPLE_BLOCK:
            _block_track(data, payload, tracks)
            blocks += 1
        elif element_id == _BLOCK_GROUP:
            for child, start, _ in _children(data, payload, payload_end):
                if child == _BLOCK:
                    _block_track(data, start, tracks)
                    blocks += 1
        pos = payload_end
    return pos, blocks


def _block_track(data: bytes, pos: int, tracks: set[int]) -> None:
    number, _ = _vint(data, pos, keep_marker=False)
    if number not in tracks:
        raise _Malformed("a block of a track that is not audio")


# -- Ogg ----------------------------------------------------------------------------------------

_OGG_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, seq, crc, segs
_BEGINNING_OF_STREAM = 0x02


def _ogg_crc(page: bytes) -> int:
    """Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial 0, no final xor."""
    crc = 0
    for byte in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC_TABLE[((crc >> 24) & 0xFF) ^ byte]
    return crc


def _ogg_table() -> tuple[int, ...]:
    table = []
    for index in range(256):
        value = index << 24
        for _ in range(8):
            value = ((value << 1) ^ 0x04C11DB7) if value & 0x80000000 else value << 1
        table.append(value & 0xFFFFFFFF)
    return tuple(table)


_OGG_CRC_TABLE = _ogg_table()


def _check_ogg(data: bytes) -> None:
    pos = 0
    first = True
    while pos < len(data):
        capture, version, flags, _, _, _, crc, segments = _OGG_HEADER.unpack_from(data, pos)
        if capture != b"OggS" or version != 0:
            raise _Malformed("broken Ogg page chain")
        table_end = pos + _OGG_HEADER.size + segments
        if table_end > len(data):
            raise _Malformed("Ogg page past the end")
        page_end = table_end + sum(data[pos + _OGG_HEADER.size:table_end])
        if page_end > len(data):
            raise _Malformed("Ogg page past the end")
        if first:
            page = bytearray(data[pos:page_end])
            page[22:26] = b"\0\0\0\0"
            if _ogg_crc(bytes(page)) != crc:
                raise _Malformed("the first Ogg page's checksum is wrong")
            if not flags & _BEGINNING_OF_STREAM or not data[table_end:].startswith(b"OpusHead"):
                raise _Malformed("not an Ogg Opus stream")
            first = False
        pos = page_end


# -- MP4 (ISO base media file format) -----------------------------------------------------------

_MP4_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex",
                   b"moof", b"traf"}


def _boxes(data: bytes, start: int, end: int):
    pos = start
    while pos < end:
        if pos + 8 > end:
            raise _Malformed("MP4 box header past its parent")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise _Malformed("MP4 box runs past its parent")
        yield kind, pos + header, pos + size
        pos += size


def _check_mp4(data: bytes) -> None:
    top = list(_boxes(data, 0, len(data)))
    kinds = [kind for kind, _, _ in top]
    if kinds[0] != b"ftyp" or b"moov" not in kinds or b"mdat" not in kinds:
        raise _Malformed("not an MP4 recording")
    (moov,) = [(start, end) for kind, start, end in top if kind == b"moov"]
    handlers = [_media_handler(data, start, end)
                for kind, start, end in _boxes(data, *moov) if kind == b"trak"]
    if not handlers or any(handler != b"soun" for handler in handlers):
        raise _Malformed("a track that is not sound")
    for kind, start, end in top:  # the rest must hold together as boxes too
        if kind in _MP4_CONTAINERS:
            _walk(data, start, end)


def _media_handler(data: bytes, start: int, end: int) -> bytes:
    """The handler type of a track (trak/mdia/hdlr): ``soun`` for sound, ``vide`` for video."""
    found = []
    for kind, payload, payload_end in _boxes(data, start, end):
        if kind != b"mdia":
            continue
        for inner, inner_start, inner_end in _boxes(data, payload, payload_end):
            if inner == b"hdlr":
                if inner_end - inner_start < 12:
                    raise _Malformed("short hdlr box")
                found.append(data[inner_start + 8:inner_start + 12])
    if len(found) != 1:
        raise _Malformed("a track without exactly one media handler")
    return found[0]


def _walk(data: bytes, start: int, end: int) -> None:
    for kind, payload, payload_end in _boxes(data, start, end):
        if kind in _MP4_CONTAINERS:
            _walk(data, payload, payload_end)
