//! The shipped data sets: every sheet loads with the documented sizes, the poisoned Moon sheets
//! differ from `train` exactly as documented, and every file matches its sha256 in data/README.md.

use std::path::Path;

use floral_data::shipped::{self, data_dir, load_sheet, moon_floral, names, resolve, sheets};
use floral_data::{DataError, align_dims, read_libsvm};
use sha2::{Digest, Sha256};

const MOON: &str = "moon_floral_seed42";

#[test]
fn names_and_sheets() {
    assert_eq!(names(), &[MOON, "mnist_1v7", "mnist_5k", "breast_cancer"]);
    assert_eq!(sheets(MOON).unwrap().len(), 15);
    assert_eq!(sheets("breast_cancer").unwrap(), &["train", "test"]);
    let e = sheets("iris").unwrap_err();
    assert_eq!(e.to_string(), "unknown data set `iris`; known: moon_floral_seed42, mnist_1v7, mnist_5k, breast_cancer");
    let e = load_sheet(MOON, "training").unwrap_err();
    assert!(
        matches!(&e, DataError::UnknownDataset { name, known } if name == "moon_floral_seed42:training" && known.contains("moon_floral_seed42:train_adv_10_lfa")),
        "{e:?}"
    );
}

/// (name, sheet, rows, features); every sheet of every shipped set.
fn expected_sizes() -> Vec<(&'static str, &'static str, usize, usize)> {
    let mut v = Vec::new();
    for &s in sheets(MOON).unwrap() {
        let rows = match s {
            "main" => 2000,
            s if s.starts_with("test") => 1000,
            _ => 500,
        };
        v.push((MOON, s, rows, 2));
    }
    v.extend([
        ("mnist_1v7", "train", 700, 784),
        ("mnist_1v7", "test", 300, 784),
        ("mnist_5k", "train", 4000, 784),
        ("mnist_5k", "test", 1000, 784),
        ("breast_cancer", "train", 398, 30),
        ("breast_cancer", "test", 171, 30),
    ]);
    v
}

#[test]
fn every_sheet_loads_with_documented_sizes() {
    let sizes = expected_sizes();
    let listed: usize = names().iter().map(|n| sheets(n).unwrap().len()).sum();
    assert_eq!(sizes.len(), listed);
    for (name, sheet, rows, d) in sizes {
        let r = load_sheet(name, sheet).unwrap();
        assert_eq!((r.n(), r.dim()), (rows, d), "{name}:{sheet}");
        let path = shipped::sheet_path(name, sheet).unwrap();
        if name == "mnist_5k" {
            assert_eq!(r.classes(), (0..10).collect::<Vec<i64>>());
            // Multi-class labels are refused as binary, naming the file.
            let e = r.into_binary(&path).unwrap_err();
            assert!(matches!(e, DataError::LabelOutOfSet { .. }), "{e:?}");
            assert!(e.to_string().contains("mnist_5k"), "{e}");
        } else {
            assert_eq!(r.classes(), vec![-1, 1], "{name}:{sheet}");
            let dset = r.into_binary(&path).unwrap();
            assert_eq!(dset.n(), rows);
        }
    }
}

#[test]
fn mnist_files_are_narrower_and_align() {
    let dir = data_dir().join("mnist_1v7");
    let mut train = read_libsvm(&dir.join("train.libsvm.gz")).unwrap();
    let mut test = read_libsvm(&dir.join("test.libsvm.gz")).unwrap();
    assert_eq!((train.dim(), test.dim()), (779, 776));
    align_dims(&mut train, &mut test);
    assert_eq!((train.dim(), test.dim()), (779, 779));
    // Pixels are in [0, 1].
    let loaded = load_sheet("mnist_1v7", "test").unwrap();
    for j in 0..loaded.dim() {
        for i in 0..loaded.n() {
            let v = loaded.x[(i, j)];
            assert!((0.0..=1.0).contains(&v));
        }
    }
}

#[test]
fn poisoned_moon_sheets_flip_the_documented_number_of_labels() {
    let path = |s: &str| shipped::sheet_path(MOON, s).unwrap();
    let train = load_sheet(MOON, "train").unwrap();
    let clean = train.clone().into_binary(&path("train")).unwrap();
    for (sheet, flips) in [
        ("train_adv_5", 25),
        ("train_adv_10", 50),
        ("train_adv_15", 75),
        ("train_adv_20", 100),
        ("train_adv_25", 119),
        ("train_adv_5_lfa", 25),
        ("train_adv_10_lfa", 50),
        ("train_adv_25_lfa", 125),
    ] {
        let raw = load_sheet(MOON, sheet).unwrap();
        assert_eq!(raw.x, train.x, "{sheet}: features differ from train");
        let poisoned = raw.into_binary(&path(sheet)).unwrap();
        assert_eq!(clean.y().diff(poisoned.y()).unwrap().len(), flips, "{sheet}");
    }
}

#[test]
fn moon_floral_builds_the_paper_split() {
    let s = moon_floral("train_adv_10").unwrap();
    assert_eq!((s.train.n(), s.train.dim()), (500, 2));
    assert_eq!(s.validation.as_ref().map(|v| v.n()), Some(500));
    assert_eq!(s.test.n(), 1000);
    let clean = s.train_clean.as_ref().unwrap();
    assert_eq!(clean.diff(s.train.y()).unwrap().len(), 50);
    let c = moon_floral("train").unwrap();
    assert_eq!(c.train_clean.as_ref(), Some(c.train.y()));
    assert_eq!(c.train.x(), s.train.x());
    // No re-standardisation: the values are the file's.
    let first = load_sheet(MOON, "train").unwrap();
    assert_eq!(c.train.x()[(0, 0)], first.x[(0, 0)]);
    assert!(matches!(moon_floral("validation"), Err(DataError::InvalidParam { field: "train_sheet", .. })));
    assert!(matches!(moon_floral("nope"), Err(DataError::UnknownDataset { .. })));
}

#[test]
fn resolve_reads_specs_and_paths() {
    assert_eq!(resolve("breast_cancer:train").unwrap().n(), 398);
    let adv = resolve("moon_floral_seed42:train_adv_10").unwrap();
    assert_eq!((adv.n(), adv.dim()), (500, 2));
    let p = data_dir().join("breast_cancer").join("test.libsvm");
    let by_path = resolve(p.to_str().unwrap()).unwrap();
    assert_eq!((by_path.n(), by_path.dim()), (171, 30));
    let e = resolve("iris:train").unwrap_err();
    assert!(matches!(e, DataError::UnknownDataset { .. }), "{e:?}");
    assert!(e.to_string().contains("breast_cancer"), "{e}");
    assert!(matches!(resolve("mnist_1v7:validation"), Err(DataError::UnknownDataset { .. })));
    assert!(matches!(resolve("no/such/file.libsvm"), Err(DataError::Io { .. })));
}

fn readme_checksums() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(data_dir().join("README.md")).unwrap();
    let block = readme
        .split("```sha256\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a ```sha256 block in data/README.md");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (hash, file) = l.split_once("  ").expect("`<sha256>  ./<file>` lines");
            (hash.to_string(), file.trim_start_matches("./").to_string())
        })
        .collect()
}

fn files_under(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            files_under(&entry.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

#[test]
fn shipped_files_match_readme_checksums() {
    let sums = readme_checksums();
    assert_eq!(sums.len(), 21);
    for (want, file) in &sums {
        let bytes = std::fs::read(data_dir().join(file)).unwrap();
        let got: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(&got, want, "{file}");
    }
    // Every data file is listed, and every shipped sheet is one of them.
    let mut on_disk = Vec::new();
    files_under(&data_dir(), "", &mut on_disk);
    on_disk.retain(|f| f != "README.md");
    on_disk.sort();
    let mut listed: Vec<String> = sums.into_iter().map(|(_, f)| f).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    for (name, sheet, ..) in expected_sizes() {
        let p = shipped::sheet_path(name, sheet).unwrap();
        let rel = p.strip_prefix(data_dir()).unwrap().to_string_lossy().into_owned();
        assert!(listed.contains(&rel), "{rel}");
    }
}
