"""Photo checks: the bytes decide the type, limits are enforced, thumbnails are upright."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms, ImageOps

from dispatch.service.errors import ValidationError
from dispatch.service.photos import (
    MAX_BYTES,
    MAX_PHOTOS,
    MAX_PIXELS,
    THUMB_SIZE,
    CheckedPhoto,
    Upload,
    check_photo,
    check_photos,
)


def image_bytes(
    fmt: str, size: tuple[int, int] = (800, 600), mode: str = "RGB", **save: object
) -> bytes:
    """An image of the given format, drawn so that its orientation can be told apart."""
    image = Image.new(mode, size, "white" if mode != "RGBA" else (0, 0, 0, 0))
    if mode in ("RGB", "RGBA"):
        # a red block in the top-left corner
        image.paste((255, 0, 0, 255)[: len(mode)], (0, 0, size[0] // 4, size[1] // 4))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A complete, valid 1-bit PNG of width×height all-black pixels; tiny on disk."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def refused(upload: Upload, *, index: int = 0) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check_photo(upload, index=index)
    assert caught.value.field == "photos"
    return caught.value


def thumb_of(photo: CheckedPhoto) -> Image.Image:
    thumb = Image.open(io.BytesIO(photo.thumb))
    thumb.load()
    return thumb


@pytest.mark.parametrize(
    ("pillow_format", "fmt", "content_type"),
    [("JPEG", "jpeg", "image/jpeg"), ("PNG", "png", "image/png"), ("WEBP", "webp", "image/webp")],
)
def test_jpeg_png_and_webp_are_accepted_with_their_size_and_a_small_jpeg_thumbnail(
    pillow_format: str, fmt: str, content_type: str
) -> None:
    data = image_bytes(pillow_format, (1200, 900))

    photo = check_photo(Upload("street.img", data))

    assert (photo.format, photo.content_type) == (fmt, content_type)
    assert (photo.width, photo.height) == (1200, 900)
    assert photo.data == data  # the original is kept byte for byte
    assert photo.filename == "street.img"
    assert len(photo.sha256) == 64
    thumb = thumb_of(photo)
    assert thumb.format == "JPEG"
    assert thumb.size == (THUMB_SIZE, 240)


def test_a_png_named_jpg_is_taken_for_the_png_it_is() -> None:
    photo = check_photo(Upload("holiday.jpg", image_bytes("PNG")))

    assert (photo.format, photo.content_type) == ("png", "image/png")


def test_a_phone_multi_picture_jpeg_is_accepted_as_jpeg() -> None:
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])

    photo = check_photo(Upload("portrait.jpg", out.getvalue()))

    assert (photo.format, photo.width, photo.height) == ("jpeg", 64, 48)


def test_a_small_image_is_not_enlarged_for_its_thumbnail() -> None:
    photo = check_photo(Upload("icon.png", image_bytes("PNG", (40, 30))))

    assert thumb_of(photo).size == (40, 30)


def test_a_transparent_png_gets_a_white_thumbnail_background() -> None:
    photo = check_photo(Upload("cut-out.png", image_bytes("PNG", (400, 400), mode="RGBA")))

    thumb = thumb_of(photo).convert("RGB")
    assert thumb.mode == "RGB"
    r, g, b = thumb.getpixel((300, 300))  # type: ignore[misc]
    assert min(r, g, b) > 240


def test_a_16_bit_greyscale_png_is_not_washed_out_to_white_in_its_thumbnail() -> None:
    image = Image.new("I;16", (100, 100), 30_000)  # 46 % grey
    out = io.BytesIO()
    image.save(out, "PNG")

    photo = check_photo(Upload("scan.png", out.getvalue()))

    r, _, _ = thumb_of(photo).convert("RGB").getpixel((50, 50))  # type: ignore[misc]
    assert 100 < r < 135


def test_an_exif_rotated_jpeg_gets_an_upright_thumbnail_and_displayed_size() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; rotate 90° clockwise to view
    data = image_bytes("JPEG", (800, 400), exif=exif.tobytes())

    photo = check_photo(Upload("sideways.jpg", data))

    assert (photo.width, photo.height) == (400, 800)
    thumb = thumb_of(photo).convert("RGB")
    assert thumb.size == (160, THUMB_SIZE)
    # The red block sat top-left in the stored pixels; turned clockwise it is top-right.
    top_right = thumb.getpixel((thumb.width - 5, 5))
    top_left = thumb.getpixel((5, 5))
    assert top_right[0] > 200 and top_right[1] < 60  # type: ignore[index]
    assert top_left[1] > 200  # type: ignore[index]
    assert not thumb.getexif()  # the thumbnail carries no EXIF (no GPS either)


def test_exif_that_pillow_cannot_apply_leaves_the_photo_as_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(image: Image.Image) -> Image.Image:
        raise SyntaxError("bad EXIF orientation")

    monkeypatch.setattr(ImageOps, "exif_transpose", broken)

    photo = check_photo(Upload("odd.jpg", image_bytes("JPEG", (800, 400))))

    assert (photo.width, photo.height) == (800, 400)


def test_a_cmyk_jpeg_is_accepted_with_an_rgb_thumbnail() -> None:
    photo = check_photo(Upload("print.jpg", image_bytes("JPEG", (200, 100), mode="CMYK")))

    assert photo.format == "jpeg"
    assert thumb_of(photo).mode == "RGB"


def test_the_thumbnail_keeps_an_rgb_colour_profile_and_drops_any_other() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    grey = srgb[:16] + b"GRAY" + srgb[20:]  # only the colour-space signature matters here

    with_rgb = check_photo(Upload("p3.jpg", image_bytes("JPEG", icc_profile=srgb)))
    with_grey = check_photo(Upload("g.jpg", image_bytes("JPEG", mode="L", icc_profile=grey)))

    assert thumb_of(with_rgb).info.get("icc_profile") == srgb
    assert "icc_profile" not in thumb_of(with_grey).info


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("anim.gif", image_bytes("GIF")),
        ("scan.bmp", image_bytes("BMP")),
        ("notes.jpg", b"Dear dispatcher, the street light on Elm Road is out.\n" * 20),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
        ("form.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"),
        ("photos.zip", b"PK\x03\x04" + b"\x00" * 100),
    ],
)
def test_anything_but_jpeg_png_or_webp_is_refused_naming_the_file(name: str, data: bytes) -> None:
    error = refused(Upload(name, data), index=1)

    assert error.code == "unsupported_image"
    assert f"photo 2 ({name})" in error.message
    assert "JPEG, PNG or WebP" in error.message


def test_a_truncated_jpeg_is_refused() -> None:
    data = image_bytes("JPEG", (640, 480), quality=95)

    error = refused(Upload("half.jpg", data[: len(data) // 2]))

    assert error.code == "unsupported_image"
    assert "photo 1 (half.jpg)" in error.message and "does not decode" in error.message


def test_a_png_with_a_broken_checksum_is_refused() -> None:
    data = bytearray(image_bytes("PNG"))
    data[-20] ^= 0xFF  # inside the last IDAT chunk

    error = refused(Upload("bitrot.png", bytes(data)))

    assert "bitrot.png" in error.message


def test_an_empty_file_is_refused() -> None:
    error = refused(Upload("empty.jpg", b""))

    assert "empty.jpg" in error.message and "empty" in error.message


def test_a_file_over_10_mb_is_refused_before_decoding_naming_its_size_and_the_limit() -> None:
    # A valid JPEG padded past the limit: it would decode, so only the size check can refuse it.
    data = image_bytes("JPEG", (64, 64))
    data += b"\x00" * (MAX_BYTES + 1 - len(data))

    error = refused(Upload("huge.jpg", data))

    assert error.code == "too_large"
    assert "huge.jpg" in error.message
    assert f"{MAX_BYTES + 1:,}" in error.message and f"{MAX_BYTES:,}" in error.message


def test_a_file_of_exactly_10_mb_is_allowed_through_the_size_check() -> None:
    data = image_bytes("JPEG", (64, 64))
    data += b"\x00" * (MAX_BYTES - len(data))  # trailing bytes after the JPEG end marker

    assert check_photo(Upload("edge.jpg", data)).format == "jpeg"


def test_more_pixels_than_allowed_is_refused_with_the_dimensions() -> None:
    data = image_bytes("PNG", (7000, 6000), mode="1")  # 42 M pixels in a few kB
    assert MAX_PIXELS < 7000 * 6000

    error = refused(Upload("wide.png", data))

    assert error.code == "too_large"
    assert "wide.png" in error.message and "7000×6000" in error.message
    assert f"{MAX_PIXELS:,}" in error.message


def test_a_decompression_bomb_is_refused_with_a_clear_message() -> None:
    # 200 M pixels: past twice Pillow's own limit, where Image.open raises on its own.
    bomb = png_bomb(20_000, 10_000)
    assert len(bomb) < 100_000

    error = refused(Upload("bomb.png", bomb))

    assert error.code == "too_large"
    assert "bomb.png" in error.message and "too many pixels" in error.message


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_bomb_that_pillow_only_warns_about_is_refused_all_the_same() -> None:
    error = refused(Upload("warned.png", png_bomb(10_000, 10_000)))  # 100 M pixels

    assert error.code == "too_large"
    assert "warned.png" in error.message and "10000×10000" in error.message


def test_our_pixel_limit_is_below_the_one_pillow_only_warns_about() -> None:
    # The module relies on this instead of turning Pillow's warning into an error.
    assert Image.MAX_IMAGE_PIXELS is not None and MAX_PIXELS < Image.MAX_IMAGE_PIXELS


def test_more_than_max_photos_are_refused_before_any_is_decoded() -> None:
    uploads = [Upload(f"p{i}.png", b"not even an image") for i in range(MAX_PHOTOS + 1)]

    with pytest.raises(ValidationError) as caught:
        check_photos(uploads)

    assert caught.value.field == "photos" and caught.value.code == "too_many"
    assert str(MAX_PHOTOS) in caught.value.message and str(MAX_PHOTOS + 1) in caught.value.message


def test_check_photos_names_the_bad_one_by_its_position() -> None:
    uploads = [Upload("good.png", image_bytes("PNG")), Upload("bad.jpg", b"text")]

    with pytest.raises(ValidationError, match=r"photo 2 \(bad\.jpg\)"):
        check_photos(uploads)


def test_check_photos_accepts_up_to_the_limit_in_order() -> None:
    uploads = [Upload(f"p{i}.png", image_bytes("PNG", (10 + i, 10))) for i in range(MAX_PHOTOS)]

    photos = check_photos(uploads)

    assert [p.width for p in photos] == [10 + i for i in range(MAX_PHOTOS)]


def test_a_client_path_is_cut_to_the_base_name() -> None:
    photo = check_photo(Upload("C:\\fakepath\\..\\street\n.png", image_bytes("PNG")))

    assert photo.filename == "street.png"
