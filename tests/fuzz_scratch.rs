use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rekcon::fuzz::generate::*;
use rekcon::fuzz::drive::Partition;
#[test]
fn stats() {
    let fixtures = Fixture::load_dir(std::path::Path::new("scenarios/images")).unwrap();
    let seed = Partition::default().worker_seed(7);
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let s = case_strategy(0.15, 30);
    let (mut many, mut big, mut b99, mut cases_many2) = (0, 0, 0, 0);
    for i in 0..200 {
        let d = s.new_tree(&mut runner).unwrap().current();
        let g = generate(&d, &GenConfig { fixtures: fixtures.clone() });
        let y = to_yaml(&g, "x");
        let m = y.matches("alice-many-50").count();
        many += y.lines().filter(|l| l.contains("IndexFaces") && l.contains("many")).count();
        if y.lines().filter(|l| l.contains("IndexFaces") && l.contains("many")).count() >= 2 { cases_many2 += 1; }
        for l in y.lines().filter(|l| l.contains("AssociateFaces")) {
            let n = l.matches("${f").count();
            if n >= 100 { big += 1; } else if n >= 99 { b99 += 1; }
        }
        if i == 3 { println!("{y}"); }
        let _ = m;
    }
    println!("index-many steps {many}, cases with 2+ {cases_many2}, associate>=100 {big}, 99 {b99}");
}
