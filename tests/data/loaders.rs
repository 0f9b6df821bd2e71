//! LIBSVM and CSV loaders: accepted input, every error kind with its line, and no panic on any
//! input.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use floral_data::{
    DataError, RawData, align_dims, parse_csv_reader, parse_libsvm_reader, read_csv, read_data_file, read_libsvm,
};
use proptest::prelude::*;

fn libsvm(text: &str) -> Result<RawData, DataError> {
    parse_libsvm_reader(Cursor::new(text.as_bytes().to_vec()), Path::new("t.libsvm"))
}

fn csv(text: &str) -> Result<RawData, DataError> {
    parse_csv_reader(Cursor::new(text.as_bytes().to_vec()), Path::new("t.csv"))
}

/// A fresh path in the system temp folder, unique per process and name.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("floral-data-{}-{name}", std::process::id()))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn libsvm_reads_sparse_rows_comments_and_blank_lines() {
    let r = libsvm("# header comment\n+1 1:0.5 3:2\n\n-1 2:-1 # trailing\r\n0\n7 qid:3 4:1e-3\n").unwrap();
    assert_eq!(r.labels, vec![1.0, -1.0, 0.0, 7.0]);
    assert_eq!(r.lines, vec![2, 4, 5, 6]);
    assert_eq!((r.n(), r.dim()), (4, 4));
    assert_eq!(r.x[(0, 0)], 0.5);
    assert_eq!(r.x[(0, 1)], 0.0);
    assert_eq!(r.x[(0, 2)], 2.0);
    assert_eq!(r.x[(1, 1)], -1.0);
    assert_eq!(r.x[(2, 3)], 0.0);
    assert_eq!(r.x[(3, 3)], 1e-3);
    assert_eq!(r.classes(), vec![-1, 0, 1, 7]);
}

#[test]
fn libsvm_explicit_zero_counts_for_width() {
    let r = libsvm("1 5:0\n0 1:1\n").unwrap();
    assert_eq!(r.dim(), 5);
    let d = r.into_binary(Path::new("t")).unwrap();
    assert_eq!(d.y().as_slice(), &[1.0, -1.0]);
}

#[test]
fn libsvm_malformed_tokens_name_line_and_token() {
    for (text, line, token) in [
        ("+1 1:1\n-1 2-3\n", 2, "2-3"),
        ("+1 1:x\n", 1, "x"),
        ("+1 a:1\n", 1, "a:1"),
        ("+1 -2:1\n", 1, "-2:1"),
        ("\n\nyes 1:1\n", 3, "yes"),
    ] {
        let e = libsvm(text).unwrap_err();
        match &e {
            DataError::MalformedToken { line: l, token: t, path, .. } => {
                assert_eq!((*l, t.as_str()), (line, token), "{text:?}");
                assert_eq!(path, Path::new("t.libsvm"));
            }
            other => panic!("{text:?}: {other:?}"),
        }
        assert!(e.to_string().starts_with(&format!("t.libsvm:{line}: malformed token")), "{e}");
    }
}

#[test]
fn libsvm_index_zero_and_non_increasing() {
    let e = libsvm("+1 1:1\n-1 0:1\n").unwrap_err();
    assert!(matches!(e, DataError::ZeroFeatureIndex { line: 2, .. }), "{e:?}");
    assert!(e.to_string().contains("1-based"), "{e}");
    let e = libsvm("+1 1:1 3:1 2:1\n").unwrap_err();
    assert!(matches!(e, DataError::NonIncreasingIndex { line: 1, index: 2, previous: 3, .. }), "{e:?}");
    assert_eq!(e.to_string(), "t.libsvm:1: feature index 2 follows index 3; indices must be strictly increasing");
    let e = libsvm("-1 4:1 4:2\n").unwrap_err();
    assert!(matches!(e, DataError::NonIncreasingIndex { index: 4, previous: 4, .. }));
}

#[test]
fn libsvm_non_finite_values_and_labels() {
    for (text, line) in [("+1 1:nan\n", 1), ("+1 1:1\n-1 1:inf\n", 2), ("+1 1:1e999\n", 1), ("NaN 1:1\n", 1)] {
        let e = libsvm(text).unwrap_err();
        assert!(matches!(&e, DataError::NonFiniteValue { line: l, .. } if *l == line), "{text:?}: {e:?}");
        assert!(e.to_string().contains("not finite"), "{e}");
    }
}

#[test]
fn libsvm_non_integer_label_is_out_of_set() {
    let e = libsvm("+1 1:1\n0.5 1:1\n").unwrap_err();
    assert!(matches!(e, DataError::LabelOutOfSet { line: 2, value: 0.5, .. }), "{e:?}");
    assert!(e.to_string().starts_with("t.libsvm:2: label 0.5 is not allowed: expected an integer"), "{e}");
}

#[test]
fn libsvm_huge_index_is_refused_without_allocating() {
    // 33 rows × 2²² features = 138,412,032 cells > MAX_CELLS = 134,217,728.
    let wide = format!("+1 {}:1\n", floral_data::MAX_FEATURES).repeat(33);
    let e = libsvm(&wide).unwrap_err();
    assert!(matches!(e, DataError::TooLarge { line: 0, limit: floral_data::MAX_CELLS, got: 138_412_032, .. }), "{e:?}");
    assert!(e.to_string().contains("the dense size n*d is 138412032"), "{e}");
    let e = libsvm("+1 99999999:1\n").unwrap_err();
    assert!(
        matches!(e, DataError::TooLarge { line: 1, limit: floral_data::MAX_FEATURES, got: 99_999_999, .. }),
        "{e:?}"
    );
}

#[test]
fn libsvm_empty_input_is_an_error() {
    for text in ["", "\n\n", "# only a comment\n  \n"] {
        let e = libsvm(text).unwrap_err();
        assert!(matches!(e, DataError::EmptyFile { .. }), "{text:?}: {e:?}");
        assert_eq!(e.to_string(), "t.libsvm: the file holds no data rows");
    }
}

#[test]
fn non_utf8_line_is_a_parse_error_with_line() {
    let bytes = b"+1 1:1\n-1 1:\xff\n".to_vec();
    let e = parse_libsvm_reader(Cursor::new(bytes.clone()), Path::new("b")).unwrap_err();
    assert!(matches!(e, DataError::Parse { line: 2, .. }), "{e:?}");
    let e = parse_csv_reader(Cursor::new(b"label,x\n1,\xff\n".to_vec()), Path::new("b")).unwrap_err();
    assert!(matches!(e, DataError::Parse { line: 2, .. }), "{e:?}");
}

#[test]
fn single_class_file_names_the_file() {
    let e = libsvm("+1 1:1\n+1 1:2\n").unwrap().into_binary(Path::new("one.libsvm")).unwrap_err();
    assert_eq!(e.to_string(), "one.libsvm: every label is 1: a single class where two are needed");
    let e = libsvm("+1 1:1\n\n2 1:2\n").unwrap().into_binary(Path::new("three.libsvm")).unwrap_err();
    assert!(matches!(e, DataError::LabelOutOfSet { line: 3, value: 2.0, .. }), "{e:?}");
    assert!(e.to_string().starts_with("three.libsvm:3:"), "{e}");
}

#[test]
fn csv_reads_label_column_anywhere() {
    let r = csv("a, \"label\" ,b\n1.5,1,2\n\n-3,0,4e1\n").unwrap();
    assert_eq!(r.labels, vec![1.0, 0.0]);
    assert_eq!(r.lines, vec![2, 4]);
    assert_eq!((r.n(), r.dim()), (2, 2));
    assert_eq!(r.x[(0, 0)], 1.5);
    assert_eq!(r.x[(0, 1)], 2.0);
    assert_eq!(r.x[(1, 0)], -3.0);
    assert_eq!(r.x[(1, 1)], 40.0);
    let d = r.into_binary(Path::new("t.csv")).unwrap();
    assert_eq!(d.y().as_slice(), &[1.0, -1.0]);
}

#[test]
fn csv_column_count_is_checked() {
    let e = csv("x0,x1,label\n1,2,1\n1,2\n").unwrap_err();
    assert!(matches!(e, DataError::ColumnCount { line: 3, expected: 3, got: 2, .. }), "{e:?}");
    assert_eq!(e.to_string(), "t.csv:3: 2 columns, but the header has 3");
}

#[test]
fn csv_label_column_missing_or_doubled() {
    let e = csv("\nx0,x1,y\n1,2,1\n").unwrap_err();
    assert!(matches!(e, DataError::MissingLabelColumn { line: 2, .. }), "{e:?}");
    assert!(e.to_string().contains("no `label` column in the header `x0,x1,y`"), "{e}");
    let e = csv("label,x,Label\n1,2,1\n").unwrap_err();
    assert!(matches!(e, DataError::Parse { line: 1, .. }), "{e:?}");
    assert!(e.to_string().contains("two `label` columns"), "{e}");
}

#[test]
fn csv_bad_fields() {
    let e = csv("x,label\n1,1\nfoo,1\n").unwrap_err();
    assert!(matches!(&e, DataError::MalformedToken { line: 3, token, .. } if token == "foo"), "{e:?}");
    let e = csv("x,label\n,1\n").unwrap_err();
    assert!(matches!(e, DataError::MalformedToken { line: 2, .. }), "{e:?}");
    let e = csv("x,label\ninf,1\n").unwrap_err();
    assert!(matches!(e, DataError::NonFiniteValue { line: 2, .. }), "{e:?}");
    let e = csv("x,label\n1,-1.5\n").unwrap_err();
    assert!(matches!(e, DataError::LabelOutOfSet { line: 2, .. }), "{e:?}");
    let e = csv("x,label\n1,one\n").unwrap_err();
    assert!(matches!(e, DataError::MalformedToken { line: 2, .. }), "{e:?}");
}

#[test]
fn csv_empty_inputs() {
    for text in ["", "\n \n", "x0,label\n", "x0,label\n\n"] {
        let e = csv(text).unwrap_err();
        assert!(matches!(e, DataError::EmptyFile { .. }), "{text:?}: {e:?}");
    }
}

#[test]
fn files_plain_and_gzip_dispatch_by_name() {
    let lib = "+1 1:1 2:2\n-1 2:3\n";
    let tab = "x0,x1,label\n1,2,1\n0,3,-1\n";
    let cases: [(&str, Vec<u8>); 4] = [
        ("a.libsvm", lib.as_bytes().to_vec()),
        ("a.libsvm.gz", gzip(lib.as_bytes())),
        ("a.csv", tab.as_bytes().to_vec()),
        ("a.CSV.gz", gzip(tab.as_bytes())),
    ];
    for (name, bytes) in cases {
        let p = temp_path(name);
        std::fs::write(&p, bytes).unwrap();
        let r = read_data_file(&p);
        std::fs::remove_file(&p).unwrap();
        let r = r.unwrap();
        assert_eq!(r.labels, vec![1.0, -1.0], "{name}");
        assert_eq!(r.x[(0, 0)], 1.0, "{name}");
        assert_eq!(r.x[(1, 1)], 3.0, "{name}");
    }
}

#[test]
fn missing_and_corrupt_files_are_io_errors_naming_the_file() {
    let p = temp_path("does-not-exist.libsvm");
    for r in [read_libsvm(&p), read_csv(&p), read_data_file(&p)] {
        let e = r.unwrap_err();
        assert!(matches!(e, DataError::Io { .. }), "{e:?}");
        assert!(e.to_string().contains("does-not-exist.libsvm"), "{e}");
    }
    let p = temp_path("corrupt.libsvm.gz");
    let mut bytes = gzip(b"+1 1:1\n-1 1:2\n");
    let k = bytes.len() / 2;
    bytes.truncate(k);
    std::fs::write(&p, bytes).unwrap();
    let r = read_libsvm(&p);
    std::fs::remove_file(&p).unwrap();
    assert!(matches!(r, Err(DataError::Io { .. })), "{r:?}");
}

#[test]
fn align_dims_pads_the_narrower_file() {
    let mut a = libsvm("+1 1:1 5:1\n").unwrap();
    let mut b = libsvm("-1 2:1\n").unwrap();
    align_dims(&mut a, &mut b);
    assert_eq!((a.dim(), b.dim()), (5, 5));
    assert_eq!(b.x[(0, 1)], 1.0);
    assert_eq!(b.x[(0, 4)], 0.0);
}

/// Checks the invariants of a successful parse, or that an error is a typed parse error that
/// names the source (never `Io`: the input is in memory).
fn check_outcome(r: Result<RawData, DataError>, path: &str) -> Result<(), TestCaseError> {
    match r {
        Ok(raw) => {
            prop_assert_eq!(raw.x.nrows(), raw.labels.len());
            prop_assert_eq!(raw.lines.len(), raw.labels.len());
            prop_assert!(raw.lines.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(raw.labels.iter().all(|v| v.is_finite() && v.fract() == 0.0));
            for j in 0..raw.x.ncols() {
                for i in 0..raw.x.nrows() {
                    prop_assert!(raw.x[(i, j)].is_finite());
                }
            }
            // Conversion to binary labels never panics either.
            let _ = raw.into_binary(Path::new(path));
        }
        Err(e) => {
            prop_assert!(!matches!(e, DataError::Io { .. }), "{:?}", e);
            prop_assert!(e.to_string().starts_with(path), "{}", e);
        }
    }
    Ok(())
}

/// Tokens that are valid, nearly valid or plainly wrong in either format.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("+1".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("label".to_string()),
        Just("x0".to_string()),
        Just("nan".to_string()),
        Just("1e999".to_string()),
        Just("#".to_string()),
        Just(":".to_string()),
        Just(",".to_string()),
        Just("qid:1".to_string()),
        (0usize..12, -3.0f64..3.0).prop_map(|(i, v)| format!("{i}:{v}")),
        (0usize..12).prop_map(|i| format!("{i}:")),
        any::<u64>().prop_map(|i| format!("{i}:1")),
        (-5i64..5).prop_map(|v| v.to_string()),
        "[ -~]{0,6}",
    ]
}

/// A line of tokens joined by a random separator.
fn line() -> impl Strategy<Value = String> {
    (proptest::collection::vec(token(), 0..6), prop_oneof![Just(" "), Just(","), Just("\t")])
        .prop_map(|(t, sep)| t.join(sep))
}

/// A valid LIBSVM line: an integer label and sorted unique indices with values.
fn libsvm_line() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("+1"), Just("-1"), Just("1"), Just("0"), Just("3")],
        proptest::collection::btree_map(1usize..10, -10.0f64..10.0, 0..5),
    )
        .prop_map(|(y, f)| {
            let feats: Vec<String> = f.iter().map(|(i, v)| format!("{i}:{v}")).collect();
            format!("{y} {}", feats.join(" "))
        })
}

/// A valid data line of a CSV with header `x0,label,x1`.
fn csv_line() -> impl Strategy<Value = String> {
    (-10.0f64..10.0, prop_oneof![Just("1"), Just("-1"), Just("0")], -10.0f64..10.0)
        .prop_map(|(a, y, b)| format!("{a},{y},{b}"))
}

/// An edit that may break a line: delete a character, or insert a troublesome snippet.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, &'static str),
}

fn edit() -> impl Strategy<Value = Option<Edit>> {
    let snippet = prop_oneof![
        Just(":"),
        Just(","),
        Just(" "),
        Just("#"),
        Just("0"),
        Just("-"),
        Just("e9999"),
        Just("nan"),
        Just("\r"),
        Just("\""),
        Just("é"),
        Just("\n"),
        Just("0:"),
        Just("1:1"),
    ];
    proptest::option::weighted(
        0.3,
        prop_oneof![
            any::<usize>().prop_map(Edit::Delete),
            (any::<usize>(), snippet).prop_map(|(k, s)| Edit::Insert(k, s)),
        ],
    )
}

/// Applies an edit at a char boundary (positions are taken modulo the line length).
fn apply(line: &str, e: &Option<Edit>) -> String {
    let bounds: Vec<usize> = line.char_indices().map(|(k, _)| k).chain([line.len()]).collect();
    let mut out = line.to_string();
    match e {
        None => {}
        Some(Edit::Delete(k)) if !line.is_empty() => {
            let at = bounds[k % (bounds.len() - 1)];
            out.remove(at);
        }
        Some(Edit::Delete(_)) => {}
        Some(Edit::Insert(k, s)) => out.insert_str(bounds[k % bounds.len()], s),
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Valid files with a few random edits: the parsers accept the unedited ones and give Ok or a
    /// typed error naming the file for the others.
    #[test]
    fn edited_valid_files_never_panic(
        lib in proptest::collection::vec((libsvm_line(), edit()), 1..8),
        tab in proptest::collection::vec((csv_line(), edit()), 1..8),
        crlf in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let text: Vec<String> = lib.iter().map(|(l, e)| apply(l, e)).collect();
        let r = libsvm(&text.join(eol));
        if lib.iter().all(|(_, e)| e.is_none()) {
            prop_assert!(r.is_ok(), "{:?}", r);
        }
        check_outcome(r, "t.libsvm")?;
        let text: Vec<String> = tab.iter().map(|(l, e)| apply(l, e)).collect();
        let r = csv(&format!("x0,label,x1{eol}{}", text.join(eol)));
        if tab.iter().all(|(_, e)| e.is_none()) {
            prop_assert!(r.is_ok(), "{:?}", r);
        }
        check_outcome(r, "t.csv")?;
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_outcome(parse_libsvm_reader(Cursor::new(bytes.clone()), Path::new("r.libsvm")), "r.libsvm")?;
        check_outcome(parse_csv_reader(Cursor::new(bytes), Path::new("r.csv")), "r.csv")?;
    }

    #[test]
    fn mangled_lines_never_panic(lines in proptest::collection::vec(line(), 0..8), crlf in any::<bool>()) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        check_outcome(libsvm(&text), "t.libsvm")?;
        check_outcome(csv(&text), "t.csv")?;
        let header = format!("x0,label,x1\n{text}");
        check_outcome(csv(&header), "t.csv")?;
    }

    /// Well-formed LIBSVM text round-trips: every written value is read back at its place.
    #[test]
    fn libsvm_round_trip(rows in proptest::collection::vec(
        (-3i64..4, proptest::collection::btree_map(1usize..20, -1e3f64..1e3, 0..6)), 1..10)) {
        let text: String = rows
            .iter()
            .map(|(y, feats)| {
                let f: Vec<String> = feats.iter().map(|(i, v)| format!("{i}:{v}")).collect();
                format!("{y} {}\n", f.join(" "))
            })
            .collect();
        let r = libsvm(&text).unwrap();
        prop_assert_eq!(r.n(), rows.len());
        let d = rows.iter().filter_map(|(_, f)| f.keys().last().copied()).max().unwrap_or(0);
        prop_assert_eq!(r.dim(), d);
        for (i, (y, feats)) in rows.iter().enumerate() {
            prop_assert_eq!(r.labels[i], *y as f64);
            for j in 0..d {
                prop_assert_eq!(r.x[(i, j)], feats.get(&(j + 1)).copied().unwrap_or(0.0));
            }
        }
    }
}
