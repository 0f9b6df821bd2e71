//! NumPy loaders: `.npy` features and labels in every supported dtype, byte order and memory
//! order, `.npz` archives, files written by NumPy, every error kind, and no panic on any input.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use floral_data::{
    DataError, MAX_CELLS, MAX_NPY_HEADER, parse_npy_features, parse_npy_labels, read_embeddings, read_npy_features,
    read_npy_labels, read_npz,
};
use proptest::prelude::*;

/// A fresh path in the system temp folder, unique per process and name.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("floral-data-npy-{}-{name}", std::process::id()))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fixtures").join(name)
}

/// A `.npy` file written by hand: magic, version 1.0, u16 little-endian header length, the
/// header dict padded with spaces and a newline to a multiple of 64 bytes, then `data`.
fn npy_raw(header: &str, data: &[u8]) -> Vec<u8> {
    let mut text = header.to_string();
    while (10 + text.len() + 1) % 64 != 0 {
        text.push(' ');
    }
    text.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    out
}

fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    npy_raw(&format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}"), data)
}

/// The values of a row-major `rows`, stored in C or Fortran order, as f64 or f32 bytes of either
/// byte order: returns the descr and the data bytes.
fn encode(rows: &[&[f64]], f32: bool, big: bool, fortran: bool) -> (String, Vec<u8>) {
    let n = rows.len();
    let d = rows[0].len();
    let flat: Vec<f64> = if fortran {
        (0..d).flat_map(|j| (0..n).map(move |i| rows[i][j])).collect()
    } else {
        rows.iter().flat_map(|r| r.iter().copied()).collect()
    };
    let mut bytes = Vec::new();
    for v in flat {
        match (f32, big) {
            (true, true) => bytes.extend((v as f32).to_be_bytes()),
            (true, false) => bytes.extend((v as f32).to_le_bytes()),
            (false, true) => bytes.extend(v.to_be_bytes()),
            (false, false) => bytes.extend(v.to_le_bytes()),
        }
    }
    let descr = format!("{}f{}", if big { '>' } else { '<' }, if f32 { 4 } else { 8 });
    (descr, bytes)
}

fn features(bytes: &[u8]) -> Result<faer::Mat<f64>, DataError> {
    parse_npy_features(Cursor::new(bytes.to_vec()), Some(bytes.len() as u64), Path::new("x.npy"))
}

fn labels(bytes: &[u8]) -> Result<Vec<f64>, DataError> {
    parse_npy_labels(Cursor::new(bytes.to_vec()), Some(bytes.len() as u64), Path::new("y.npy"))
}

const ROWS: [&[f64]; 3] = [&[0.5, -1.25], &[3.0, 0.125], &[-4.5, 1e-3]];

fn valid_x() -> Vec<u8> {
    let (descr, data) = encode(&ROWS, false, false, false);
    npy(&descr, false, "(3, 2)", &data)
}

fn valid_y() -> Vec<u8> {
    let data: Vec<u8> = [1i64, -1, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
    npy("<i8", false, "(3,)", &data)
}

fn zip_bytes(members: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let method = if deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn features_in_every_dtype_byte_order_and_memory_order() {
    for f32 in [false, true] {
        for big in [false, true] {
            for fortran in [false, true] {
                let (descr, data) = encode(&ROWS, f32, big, fortran);
                let x = features(&npy(&descr, fortran, "(3, 2)", &data)).unwrap();
                let case = format!("{descr} fortran={fortran}");
                assert_eq!((x.nrows(), x.ncols()), (3, 2), "{case}");
                for (i, row) in ROWS.iter().enumerate() {
                    for (j, &v) in row.iter().enumerate() {
                        // f32 widens exactly: compare with the f32-rounded value.
                        let want = if f32 { f64::from(v as f32) } else { v };
                        assert_eq!(x[(i, j)], want, "{case} ({i}, {j})");
                    }
                }
            }
        }
    }
}

#[test]
fn version_2_header_and_list_shape_are_read() {
    let (descr, data) = encode(&ROWS, false, false, false);
    let mut bytes = npy(&descr, false, "[3, 2]", &data);
    // Rewrite as version 2.0: a u32 header length.
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as u32;
    let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
    v2.extend(header_len.to_le_bytes());
    v2.extend_from_slice(&bytes.split_off(10));
    let x = features(&v2).unwrap();
    assert_eq!(x[(2, 1)], 1e-3);
}

#[test]
fn labels_in_integer_bool_and_float_dtypes() {
    let le =
        |vals: &[i64], size: usize| -> Vec<u8> { vals.iter().flat_map(|v| v.to_le_bytes()[..size].to_vec()).collect() };
    let cases: Vec<(&str, &str, Vec<u8>, Vec<f64>)> = vec![
        ("<i8", "(3,)", le(&[1, -1, 1], 8), vec![1.0, -1.0, 1.0]),
        ("<i4", "(3,)", le(&[7, 0, -2], 4), vec![7.0, 0.0, -2.0]),
        (">i2", "(3,)", [3i16, -1, 0].iter().flat_map(|v| v.to_be_bytes()).collect(), vec![3.0, -1.0, 0.0]),
        ("|u1", "(3,)", vec![1, 0, 1], vec![1.0, 0.0, 1.0]),
        ("|i1", "(3, 1)", vec![0xff, 1, 0xff], vec![-1.0, 1.0, -1.0]),
        ("|b1", "(3,)", vec![1, 0, 0], vec![1.0, 0.0, 0.0]),
        (">u8", "(3,)", [5u64, 0, 9].iter().flat_map(|v| v.to_be_bytes()).collect(), vec![5.0, 0.0, 9.0]),
        ("<f8", "(3,)", [1.0f64, 0.0, 1.0].iter().flat_map(|v| v.to_le_bytes()).collect(), vec![1.0, 0.0, 1.0]),
        (">f4", "(3,)", [-1.0f32, 1.0, 1.0].iter().flat_map(|v| v.to_be_bytes()).collect(), vec![-1.0, 1.0, 1.0]),
    ];
    for (descr, shape, data, want) in cases {
        let got = labels(&npy(descr, false, shape, &data)).unwrap();
        assert_eq!(got, want, "{descr} {shape}");
    }
}

#[test]
fn embeddings_from_two_files_become_a_binary_dataset() {
    let (xp, yp) = (temp_path("emb-x.npy"), temp_path("emb-y.npy"));
    std::fs::write(&xp, valid_x()).unwrap();
    std::fs::write(&yp, valid_y()).unwrap();
    let raw = read_embeddings(&xp, &yp);
    let x_only = read_npy_features(&xp);
    let y_only = read_npy_labels(&yp);
    std::fs::remove_file(&xp).unwrap();
    std::fs::remove_file(&yp).unwrap();
    let raw = raw.unwrap();
    assert_eq!((raw.n(), raw.dim()), (3, 2));
    assert!(!raw.sparse);
    assert!(raw.lines.is_empty());
    assert_eq!(raw.labels, vec![1.0, -1.0, 1.0]);
    assert_eq!(x_only.unwrap()[(1, 0)], 3.0);
    assert_eq!(y_only.unwrap(), raw.labels);
    let d = raw.into_binary(Path::new("emb")).unwrap();
    assert_eq!(d.y().as_slice(), &[1.0, -1.0, 1.0]);
    assert_eq!(d.x()[(2, 0)], -4.5);
}

#[test]
fn numpy_written_files_are_read() {
    let want = [[0.5, -1.25, 2.0], [3.0, 0.125, -4.5], [1e-3, 7.0, -0.0], [2.5, -3.75, 100.0]];
    let raw = read_embeddings(&fixture("numpy_x_f32.npy"), &fixture("numpy_y_i64.npy")).unwrap();
    let npz = read_npz(&fixture("numpy_xy.npz"), "emb", "label").unwrap();
    for r in [&raw, &npz] {
        assert_eq!((r.n(), r.dim()), (4, 3));
        assert_eq!(r.labels, vec![1.0, 0.0, 1.0, 0.0]);
        for (i, row) in want.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                assert_eq!(r.x[(i, j)], f64::from(v as f32), "({i}, {j})");
            }
        }
    }
    let d = npz.into_binary(Path::new("numpy_xy.npz")).unwrap();
    assert_eq!(d.y().as_slice(), &[1.0, -1.0, 1.0, -1.0]);
}

#[test]
fn npz_stored_and_deflated_with_default_or_custom_names() {
    let (x, y) = (valid_x(), valid_y());
    for deflate in [false, true] {
        let p = temp_path(&format!("a-{deflate}.npz"));
        std::fs::write(&p, zip_bytes(&[("x.npy", &x), ("y.npy", &y)], deflate)).unwrap();
        let a = read_npz(&p, "x", "y");
        let b = read_npz(&p, "x.npy", "y.npy");
        let missing = read_npz(&p, "features", "y");
        std::fs::remove_file(&p).unwrap();
        for r in [a.unwrap(), b.unwrap()] {
            assert_eq!((r.n(), r.dim()), (3, 2));
            assert_eq!(r.x[(0, 1)], -1.25);
            assert_eq!(r.labels, vec![1.0, -1.0, 1.0]);
        }
        let e = missing.unwrap_err();
        match &e {
            DataError::NpzMissingArray { name, available, .. } => {
                assert_eq!(name, "features");
                assert_eq!(available, "x, y");
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().ends_with("no array named `features` in the archive (it holds: x, y)"), "{e}");
    }
}

#[test]
fn npz_errors_name_the_member() {
    let p = temp_path("bad-member.npz");
    let mut x = valid_x();
    x[20] = b'!'; // breaks the header dict
    std::fs::write(&p, zip_bytes(&[("x.npy", &x), ("y.npy", &valid_y())], true)).unwrap();
    let e = read_npz(&p, "x", "y").unwrap_err();
    assert!(matches!(e, DataError::Malformed { .. }), "{e:?}");
    assert!(e.to_string().contains("bad-member.npz[x.npy]: not a valid .npy file"), "{e}");
    // Features and labels of different lengths, both named.
    let y4: Vec<u8> = npy("|u1", false, "(4,)", &[1, 0, 1, 0]);
    std::fs::write(&p, zip_bytes(&[("x.npy", &valid_x()), ("y.npy", &y4)], false)).unwrap();
    let e = read_npz(&p, "x", "y").unwrap_err();
    assert!(matches!(e, DataError::RowCountMismatch { rows: 3, count: 4, .. }), "{e:?}");
    assert!(e.to_string().contains("[x.npy] has 3 rows but"), "{e}");
    assert!(e.to_string().contains("[y.npy] holds 4 labels"), "{e}");
    // Not a zip archive at all.
    std::fs::write(&p, valid_x()).unwrap();
    let e = read_npz(&p, "x", "y").unwrap_err();
    std::fs::remove_file(&p).unwrap();
    assert!(matches!(e, DataError::Malformed { format: ".npz (zip)", .. }), "{e:?}");
}

#[test]
fn row_count_mismatch_names_both_files() {
    let (xp, yp) = (temp_path("rc-x.npy"), temp_path("rc-y.npy"));
    std::fs::write(&xp, valid_x()).unwrap();
    std::fs::write(&yp, npy("|u1", false, "(2,)", &[1, 0])).unwrap();
    let e = read_embeddings(&xp, &yp).unwrap_err();
    std::fs::remove_file(&xp).unwrap();
    std::fs::remove_file(&yp).unwrap();
    assert_eq!(
        e.to_string(),
        format!("{} has 3 rows but {} holds 2 labels; expected one label per row", xp.display(), yp.display())
    );
}

#[test]
fn wrong_dimensionality_is_refused() {
    let d8 = [0u8; 8 * 8];
    for (shape, expected) in [("(2, 2, 2)", "a 1-D or 2-D array"), ("(8,)", "a 2-D array")] {
        let e = features(&npy("<f8", false, shape, &d8)).unwrap_err();
        assert!(matches!(e, DataError::NpyShape { .. }), "{shape}: {e:?}");
        assert!(e.to_string().starts_with("x.npy: the array has shape"), "{e}");
        assert!(e.to_string().contains(expected), "{e}");
    }
    let e = labels(&npy("<f8", false, "(4, 2)", &d8)).unwrap_err();
    assert!(matches!(&e, DataError::NpyShape { shape, .. } if shape == &[4, 2]), "{e:?}");
    assert!(e.to_string().contains("shape (4, 2); expected a 1-D array"), "{e}");
    let e = features(&npy("<f8", false, "(3, 0)", &[])).unwrap_err();
    assert!(matches!(e, DataError::NpyShape { .. }), "{e:?}");
    let e = features(&npy("<f8", false, "(0, 3)", &[])).unwrap_err();
    assert!(matches!(e, DataError::EmptyFile { .. }), "{e:?}");
    let e = labels(&npy("<i8", false, "(0,)", &[])).unwrap_err();
    assert!(matches!(e, DataError::EmptyFile { .. }), "{e:?}");
}

#[test]
fn unsupported_dtypes_are_refused() {
    let e = features(&npy("<i4", false, "(1, 2)", &[0; 8])).unwrap_err();
    assert!(matches!(&e, DataError::NpyDtype { dtype, .. } if dtype == "<i4"), "{e:?}");
    assert!(e.to_string().starts_with("x.npy: unsupported dtype `<i4`; expected float32 or float64 features"), "{e}");
    for descr in ["<c16", "<f2", "|S4", "<U2", "<M8[s]"] {
        let e = labels(&npy(descr, false, "(1,)", &[0; 16])).unwrap_err();
        assert!(matches!(e, DataError::NpyDtype { .. }), "{descr}: {e:?}");
    }
    // A structured dtype.
    let e =
        labels(&npy_raw("{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': False, 'shape': (1,), }", &[0; 12]))
            .unwrap_err();
    assert!(matches!(e, DataError::NpyDtype { .. }), "{e:?}");
}

#[test]
fn non_finite_features_name_row_and_column() {
    let rows: [&[f64]; 2] = [&[1.0, 2.0, 3.0], &[4.0, 5.0, f64::NAN]];
    for fortran in [false, true] {
        let (descr, data) = encode(&rows, true, true, fortran);
        let e = features(&npy(&descr, fortran, "(2, 3)", &data)).unwrap_err();
        assert!(matches!(e, DataError::NpyNonFinite { row: 1, col: 2, .. }), "fortran={fortran}: {e:?}");
        assert!(e.to_string().starts_with("x.npy: feature (1, 2) is NaN"), "{e}");
    }
    let rows: [&[f64]; 1] = [&[f64::NEG_INFINITY, 0.0]];
    let (descr, data) = encode(&rows, false, false, false);
    let e = features(&npy(&descr, false, "(1, 2)", &data)).unwrap_err();
    assert!(matches!(e, DataError::NpyNonFinite { row: 0, col: 0, .. }), "{e:?}");
}

#[test]
fn non_integer_labels_name_their_index() {
    for (v, index) in [(0.5f64, 1), (f64::NAN, 1), (f64::INFINITY, 1), (1e300, 1)] {
        let data: Vec<u8> = [1.0, v, 0.0].iter().flat_map(|x: &f64| x.to_le_bytes()).collect();
        let e = labels(&npy("<f8", false, "(3,)", &data)).unwrap_err();
        assert!(matches!(e, DataError::NpyLabel { index: i, .. } if i == index), "{v}: {e:?}");
        assert!(e.to_string().starts_with("y.npy: label at index 1 is"), "{e}");
    }
    let big: Vec<u8> = [1i64, 1 << 60].iter().flat_map(|v| v.to_le_bytes()).collect();
    let e = labels(&npy("<i8", false, "(2,)", &big)).unwrap_err();
    assert!(matches!(e, DataError::NpyLabel { index: 1, .. }), "{e:?}");
}

#[test]
fn truncated_files_report_expected_and_actual_length() {
    let full = valid_x();
    let cut = &full[..full.len() - 5];
    let e = features(cut).unwrap_err();
    assert!(
        matches!(e, DataError::Truncated { expected: Some(e), got: Some(g), .. }
            if e == full.len() as u64 && g == cut.len() as u64),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!("x.npy: truncated: the header promises {} bytes, the file holds {}", full.len(), cut.len())
    );
    // Length unknown (a stream): the read itself runs short.
    let e = parse_npy_features(Cursor::new(cut.to_vec()), None, Path::new("s.npy")).unwrap_err();
    assert!(matches!(e, DataError::Truncated { expected: Some(_), got: None, .. }), "{e:?}");
    // Cut inside the header.
    let e = features(&full[..40]).unwrap_err();
    assert!(matches!(e, DataError::Truncated { .. }), "{e:?}");
    assert!(e.to_string().starts_with("x.npy: truncated"), "{e}");
    // A file on disk.
    let p = temp_path("cut.npy");
    std::fs::write(&p, cut).unwrap();
    let e = read_npy_features(&p).unwrap_err();
    std::fs::remove_file(&p).unwrap();
    assert!(matches!(e, DataError::Truncated { .. }), "{e:?}");
}

#[test]
fn malformed_preambles_are_refused() {
    let good = valid_x();
    let mut bad_magic = good.clone();
    bad_magic[1] = b'X';
    let mut bad_version = good.clone();
    bad_version[6] = 9;
    let mut huge_header = b"\x93NUMPY\x02\x00".to_vec();
    huge_header.extend(((MAX_NPY_HEADER + 1) as u32).to_le_bytes());
    for (bytes, needle) in [
        (b"".to_vec(), "shorter than the 8-byte"),
        (b"x0,label\n1,1\n".to_vec(), "magic"),
        (bad_magic, "magic"),
        (bad_version, "format version 9.0"),
        (huge_header, "at most 65536"),
        (npy_raw("{'descr': '<f8', 'fortran_order': False}", &[]), "`shape`"),
        (npy_raw("not a dict 'shape': (1, 1)", &[0; 8]), "not a valid .npy"),
    ] {
        let e = features(&bytes).unwrap_err();
        assert!(matches!(e, DataError::Malformed { .. }), "{needle}: {e:?}");
        assert!(e.to_string().starts_with("x.npy: not a valid .npy file"), "{e}");
        assert!(e.to_string().contains(needle), "{needle}: {e}");
    }
}

#[test]
fn oversized_shapes_are_refused_before_allocating() {
    let side = (MAX_CELLS as u64).isqrt() + 1;
    for shape in
        [format!("({side}, {side})"), "(18446744073709551615, 2)".to_string(), "(0, 99999999999999999999)".to_string()]
    {
        let e = features(&npy("<f8", false, &shape, &[])).unwrap_err();
        assert!(
            matches!(e, DataError::TooLarge { limit: MAX_CELLS, .. }) || matches!(e, DataError::Malformed { .. }),
            "{shape}: {e:?}"
        );
    }
    let e = features(&npy("<f8", false, &format!("({side}, {side})"), &[])).unwrap_err();
    assert!(matches!(e, DataError::TooLarge { .. }), "{e:?}");
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let p = temp_path("absent.npy");
    for e in [
        read_npy_features(&p).unwrap_err(),
        read_npy_labels(&p).unwrap_err(),
        read_npz(&p, "x", "y").unwrap_err(),
        read_embeddings(&p, &p).unwrap_err(),
    ] {
        assert!(matches!(e, DataError::Io { .. }), "{e:?}");
        assert!(e.to_string().contains("absent.npy"), "{e}");
    }
}

/// Any outcome is fine except a panic; an error names the source.
fn check_npy(bytes: &[u8], known_len: bool) -> Result<(), TestCaseError> {
    let len = known_len.then_some(bytes.len() as u64);
    match parse_npy_features(Cursor::new(bytes.to_vec()), len, Path::new("g.npy")) {
        Ok(x) => {
            for j in 0..x.ncols() {
                for i in 0..x.nrows() {
                    prop_assert!(x[(i, j)].is_finite());
                }
            }
        }
        Err(e) => prop_assert!(e.to_string().starts_with("g.npy"), "{}", e),
    }
    match parse_npy_labels(Cursor::new(bytes.to_vec()), len, Path::new("g.npy")) {
        Ok(y) => prop_assert!(y.iter().all(|v| v.is_finite() && v.fract() == 0.0)),
        Err(e) => prop_assert!(e.to_string().starts_with("g.npy"), "{}", e),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random bytes, with and without a valid magic in front: never a panic.
    #[test]
    fn garbage_bytes_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..300),
        magic in any::<bool>(),
        known_len in any::<bool>(),
    ) {
        let mut bytes = if magic { b"\x93NUMPY\x01\x00".to_vec() } else { Vec::new() };
        bytes.extend(tail);
        check_npy(&bytes, known_len)?;
    }

    /// A valid file cut anywhere or with bytes overwritten: a typed error or a clean read.
    #[test]
    fn truncated_or_mutated_valid_files_never_panic(
        cut in 0usize..200,
        edits in proptest::collection::vec((0usize..200, any::<u8>()), 0..4),
        known_len in any::<bool>(),
    ) {
        for mut bytes in [valid_x(), valid_y()] {
            for &(at, b) in &edits {
                if let Some(slot) = bytes.get_mut(at) {
                    *slot = b;
                }
            }
            let full = bytes.len();
            bytes.truncate(cut.min(full));
            check_npy(&bytes, known_len)?;
            if cut < full && edits.is_empty() {
                prop_assert!(
                    parse_npy_labels(Cursor::new(bytes.clone()), None, Path::new("g.npy")).is_err()
                );
            }
        }
    }

    /// Header dicts assembled from plausible and implausible pieces: never a panic.
    #[test]
    fn odd_headers_never_panic(
        descr in prop::sample::select(vec!["'<f8'", "'>f4'", "'<i8'", "'|b1'", "'<c8'", "'x'", "3", "[('a', '<f8', (99999999999, 99999999999))]", "[('a', '<f8')]"]),
        order in prop::sample::select(vec!["True", "False", "1", "'no'"]),
        shape in prop::sample::select(vec!["(2, 2)", "(4,)", "()", "(2, 2, 2)", "(-1, 2)", "(1e3,)", "(18446744073709551616, 1)", "(2, 2", "[2, 2]", "(3L, 2L)"]),
        data in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let bytes = npy_raw(&format!("{{'descr': {descr}, 'fortran_order': {order}, 'shape': {shape}, }}"), &data);
        check_npy(&bytes, true)?;
        check_npy(&bytes, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random archives and valid archives cut short: never a panic, errors name the archive.
    #[test]
    fn garbage_npz_never_panics(
        tail in proptest::collection::vec(any::<u8>(), 0..200),
        cut in 0usize..400,
        deflate in any::<bool>(),
    ) {
        let p = temp_path(&format!("g-{}.npz", std::thread::current().name().unwrap_or("t").replace(':', "_")));
        let mut valid = zip_bytes(&[("x.npy", &valid_x()), ("y.npy", &valid_y())], deflate);
        let full = valid.len();
        valid.truncate(cut.min(full));
        let mut zipped_tail = b"PK\x03\x04".to_vec();
        zipped_tail.extend(tail.iter().copied());
        for bytes in [tail, zipped_tail, valid] {
            std::fs::write(&p, &bytes).unwrap();
            let r = read_npz(&p, "x", "y");
            if let Err(e) = r {
                prop_assert!(e.to_string().starts_with(&p.display().to_string()), "{}", e);
            }
        }
        std::fs::remove_file(&p).unwrap();
    }
}
