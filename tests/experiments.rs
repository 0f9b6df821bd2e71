//! Every experiment file under `experiments/` parses and passes `check`, whatever its kind.

use std::path::Path;

#[test]
fn every_experiment_file_parses_and_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "expected the shipped experiments, found {files:?}");
    for f in files {
        // Every kind (`Experiment(...)` or a study) through the same loader `floral run` uses.
        let study = floral::experiment::load_study_file(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(study.name(), f.file_stem().unwrap().to_str().unwrap(), "{}: name and file differ", f.display());
        assert!(study.jobs() > 0, "{}", f.display());
    }
}

#[test]
fn quickstart_constant_is_the_committed_file() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/quickstart.ron")).unwrap();
    assert_eq!(text, floral::experiment::QUICKSTART);
}
