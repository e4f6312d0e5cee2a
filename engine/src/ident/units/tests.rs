use super::*;

#[test]
fn the_tables_hold_the_34_provinces_and_every_commune_once() {
    let u = units();
    assert_eq!(u.province_count(), 34);
    assert_eq!(
        u.commune_count(),
        3321,
        "Decision 19/2025: 3,321 commune-level units"
    );
    assert_eq!(
        rows(COMMUNES_TSV).count(),
        u.commune_count(),
        "no commune code twice"
    );
    for (code, name) in &u.provinces {
        assert!(
            code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()),
            "{code}"
        );
        assert!(!name.is_empty());
        assert!(
            u.communes_of(code).count() > 0,
            "{code} {name} has no commune"
        );
    }
    for (code, (p, name)) in &u.communes {
        assert!(
            code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()),
            "{code}"
        );
        assert!(u.provinces.contains_key(p), "{code} {name}: province {p}");
    }
}

#[test]
fn every_former_province_has_a_successor_in_force() {
    let u = units();
    for (code, name) in super::super::provinces::PROVINCES {
        let (_, to) = SUCCESSOR
            .iter()
            .find(|(c, _)| c == code)
            .unwrap_or_else(|| panic!("{code} {name} has no successor"));
        assert!(u.province(to).is_ok(), "{name} → {to}");
    }
    assert_eq!(SUCCESSOR.len(), super::super::provinces::PROVINCES.len());
}

#[test]
fn an_abolished_province_is_refused_with_its_successor_named() {
    let u = units();
    let e = u.province("02").expect_err("Hà Giang was merged");
    assert_eq!(
        e,
        UnitError::Abolished {
            code: "02".into(),
            name: "Hà Giang".into(),
            successor: "08".into(),
            successor_name: "Tỉnh Tuyên Quang".into(),
        }
    );
    assert!(e.to_string().contains("08 Tỉnh Tuyên Quang"), "{e}");
    let old_lao_cai = u.province("10").expect_err("10 was Lào Cai's code");
    assert!(matches!(old_lao_cai, UnitError::Abolished { ref successor, .. } if successor == "15"));
    // An old code that now names another province: 15 was Yên Bái, and is Lào Cai.
    assert_eq!(u.province("15"), Ok("Tỉnh Lào Cai"));
    let id_code = u.province("079").expect_err("a personal-ID code");
    assert!(
        matches!(id_code, UnitError::IdCode { ref successor, .. } if successor == "79"),
        "{id_code:?}"
    );
    assert!(matches!(
        u.province("99"),
        Err(UnitError::UnknownProvince { .. })
    ));
}

#[test]
fn a_commune_is_checked_against_its_province() {
    let u = units();
    assert_eq!(u.commune("00004", Some("01")), Ok(("Phường Ba Đình", "01")));
    assert!(matches!(
        u.commune("00004", Some("79")),
        Err(UnitError::OutsideProvince { ref actual, .. }) if actual == "01"
    ));
    assert!(matches!(
        u.commune("99999", None),
        Err(UnitError::UnknownCommune { .. })
    ));
    assert!(u.check_area(Some("01"), Some("00004")).is_ok());
    assert!(u.check_area(Some("02"), None).is_err());
}
