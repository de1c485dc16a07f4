//! ELF: kind from the program headers and the dynamic table, versions from `.gnu.version_r`.

use crate::facts::{lossy, Audit, Format, GlibcVersion, Kind};
use crate::AuditError;
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, SectionHeader};
use object::read::StringTable;
use std::collections::BTreeMap;

/// What the dynamic table says, read from the `PT_DYNAMIC` segment so that binaries without
/// section headers are classified too.
#[derive(Default)]
struct DynamicFacts {
    has_dynamic: bool,
    needed: Vec<String>,
    rpath: Vec<String>,
    runpath: Vec<String>,
    has_soname: bool,
    flags_1: u64,
}

pub(crate) fn audit<Elf: FileHeader<Endian = object::Endianness>>(
    data: &[u8],
) -> Result<Audit, AuditError> {
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    let segments = header.program_headers(endian, data)?;

    let mut interpreter = None;
    let mut dynamic = DynamicFacts::default();
    for segment in segments {
        if let Some(interp) = segment.interpreter(endian, data)? {
            interpreter = Some(lossy(interp));
        }
        if let Some(entries) = segment.dynamic(endian, data)? {
            dynamic = read_dynamic::<Elf>(endian, data, segments, entries)?;
        }
    }

    let entry: u64 = header.e_entry(endian).into();
    let has_entry = entry != 0;
    let kind = classify(
        header.e_type(endian),
        interpreter.is_some(),
        has_entry,
        &dynamic,
    );
    let mut audit = Audit::new(Format::Elf, machine_name(header.e_machine(endian)), kind);
    audit.interpreter = interpreter;
    audit.needed = dynamic.needed;
    audit.rpath = dynamic.rpath;
    audit.runpath = dynamic.runpath;
    audit.symbol_versions = read_version_needs::<Elf>(header, endian, data)?;
    audit.glibc_floor = audit
        .glibc_versions()
        .filter_map(|(_, version)| GlibcVersion::from_symbol_version(version))
        .max();
    audit.version_floors = version_floors(&audit.symbol_versions);
    Ok(audit)
}

/// The highest numbered version per family (`GLIBC`, `GLIBCXX`, `CXXABI`, `GCC`...), over every
/// library that is asked for it; names without a number (`GLIBC_PRIVATE`) are no floor.
fn version_floors(needs: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, String> {
    let mut floors: BTreeMap<String, (Vec<u64>, &str)> = BTreeMap::new();
    for version in needs.values().flatten() {
        let (family, numbers, private) = version_order(version);
        if !private.is_empty() {
            continue;
        }
        match floors.get_mut(&family) {
            Some((highest, name)) if *highest < numbers => (*highest, *name) = (numbers, version),
            Some(_) => {}
            None => {
                floors.insert(family, (numbers, version));
            }
        }
    }
    floors
        .into_iter()
        .map(|(family, (_, name))| (family, name.to_owned()))
        .collect()
}

/// Static-pie is `ET_DYN` with `PT_DYNAMIC` but no `PT_INTERP` and no `DT_NEEDED`. A shared library
/// can look the same, so a `DT_SONAME` without `DF_1_PIE` marks a library (ld.so, libc.so.6 even has
/// a `PT_INTERP`), and so does a zero entry point when neither is there (a `-nostdlib` library
/// without a soname has nothing else to tell it apart).
fn classify(
    e_type: elf::FileType,
    has_interp: bool,
    has_entry: bool,
    dynamic: &DynamicFacts,
) -> Kind {
    let is_pie = dynamic.flags_1 & elf::DF_1_PIE.0 != 0;
    let needs_loader = has_interp || !dynamic.needed.is_empty();
    match e_type {
        elf::ET_EXEC if needs_loader => Kind::DynamicExecutable,
        elf::ET_EXEC => Kind::StaticExecutable,
        elf::ET_DYN if dynamic.has_soname && !is_pie => Kind::SharedLibrary,
        elf::ET_DYN if has_interp => Kind::DynamicExecutable,
        elf::ET_DYN
            if dynamic.needed.is_empty() && dynamic.has_dynamic && (is_pie || has_entry) =>
        {
            Kind::StaticPieExecutable
        }
        elf::ET_DYN if is_pie => Kind::DynamicExecutable,
        elf::ET_DYN => Kind::SharedLibrary,
        _ => Kind::Other,
    }
}

fn read_dynamic<Elf: FileHeader>(
    endian: Elf::Endian,
    data: &[u8],
    segments: &[Elf::ProgramHeader],
    entries: &[Elf::Dyn],
) -> Result<DynamicFacts, AuditError> {
    let mut facts = DynamicFacts {
        has_dynamic: true,
        ..DynamicFacts::default()
    };
    let (mut strtab, mut strsz) = (None, 0u64);
    let (mut needed, mut rpath, mut runpath) = (Vec::new(), Vec::new(), Vec::new());
    for entry in entries {
        let value: u64 = entry.d_val(endian).into();
        match entry.tag(endian) {
            elf::DT_NULL => break,
            elf::DT_STRTAB => strtab = Some(value),
            elf::DT_STRSZ => strsz = value,
            elf::DT_NEEDED => needed.push(value),
            elf::DT_RPATH => rpath.push(value),
            elf::DT_RUNPATH => runpath.push(value),
            elf::DT_SONAME => facts.has_soname = true,
            elf::DT_FLAGS_1 => facts.flags_1 = value,
            _ => {}
        }
    }
    if needed.is_empty() && rpath.is_empty() && runpath.is_empty() {
        return Ok(facts);
    }
    let start = strtab
        .and_then(|address| file_offset::<Elf>(endian, segments, address))
        .ok_or_else(|| {
            AuditError::Malformed("DT_STRTAB points outside every PT_LOAD segment".into())
        })?;
    let strings = StringTable::new(data, start, start.saturating_add(strsz));
    let name = |offset: u64| -> Result<String, AuditError> {
        let offset = u32::try_from(offset)
            .map_err(|_| AuditError::Malformed("dynamic string offset".into()))?;
        strings
            .get(offset)
            .map(lossy)
            .map_err(|()| AuditError::Malformed("dynamic string outside DT_STRTAB".into()))
    };
    facts.needed = needed.into_iter().map(name).collect::<Result<_, _>>()?;
    facts.rpath = split_paths(rpath.into_iter().map(name).collect::<Result<_, _>>()?);
    facts.runpath = split_paths(runpath.into_iter().map(name).collect::<Result<_, _>>()?);
    Ok(facts)
}

/// The file offset of a virtual address, through the `PT_LOAD` segment that maps it.
fn file_offset<Elf: FileHeader>(
    endian: Elf::Endian,
    segments: &[Elf::ProgramHeader],
    address: u64,
) -> Option<u64> {
    segments
        .iter()
        .filter(|s| s.p_type(endian) == elf::PT_LOAD)
        .find_map(|segment| {
            let vaddr: u64 = segment.p_vaddr(endian).into();
            let filesz: u64 = segment.p_filesz(endian).into();
            let offset: u64 = segment.p_offset(endian).into();
            let delta = address.checked_sub(vaddr)?;
            (delta < filesz).then(|| offset.saturating_add(delta))
        })
}

fn split_paths(entries: Vec<String>) -> Vec<String> {
    entries
        .iter()
        .flat_map(|e| e.split(':'))
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `.gnu.version_r`: for each needed library, the versions asked of it.
fn read_version_needs<Elf: FileHeader>(
    header: &Elf,
    endian: Elf::Endian,
    data: &[u8],
) -> Result<BTreeMap<String, Vec<String>>, AuditError> {
    let mut needs = BTreeMap::new();
    let sections = header.sections(endian, data)?;
    for section in sections.iter() {
        let Some((mut verneeds, link)) = section.gnu_verneed(endian, data)? else {
            continue;
        };
        let strings = sections.strings(endian, data, link)?;
        while let Some((verneed, mut vernauxs)) = verneeds.next()? {
            let file = lossy(verneed.file(endian, strings)?);
            let versions: &mut Vec<String> = needs.entry(file).or_default();
            while let Some(vernaux) = vernauxs.next()? {
                versions.push(lossy(vernaux.name(endian, strings)?));
            }
            versions.sort_by_cached_key(|version| version_order(version));
            versions.dedup();
        }
    }
    Ok(needs)
}

/// Orders `GLIBC_2.2.5 < GLIBC_2.14 < GLIBC_PRIVATE`: by the name before the numbers, then
/// numerically, so that listings read oldest to newest.
fn version_order(version: &str) -> (String, Vec<u64>, String) {
    let (name, numbers) = version.rsplit_once('_').unwrap_or((version, ""));
    let parsed: Option<Vec<u64>> = numbers.split('.').map(|part| part.parse().ok()).collect();
    match parsed {
        Some(numbers) => (name.to_owned(), numbers, String::new()),
        None => (name.to_owned(), vec![u64::MAX], version.to_owned()),
    }
}

fn machine_name(machine: elf::Machine) -> String {
    match machine {
        elf::EM_X86_64 => "x86_64",
        elf::EM_AARCH64 => "aarch64",
        elf::EM_386 => "i386",
        elf::EM_ARM => "arm",
        elf::EM_RISCV => "riscv",
        elf::EM_PPC64 => "powerpc64",
        elf::EM_PPC => "powerpc",
        elf::EM_S390 => "s390x",
        elf::EM_MIPS => "mips",
        elf::EM_LOONGARCH => "loongarch64",
        elf::EM_SPARCV9 => "sparc64",
        other => return format!("em-{}", other.0),
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_sort_oldest_first() {
        let mut versions = vec![
            "GLIBC_PRIVATE",
            "GLIBC_2.34",
            "GLIBC_2.2.5",
            "GCC_4.2.0",
            "GLIBC_2.14",
            "GCC_3.0",
        ];
        versions.sort_by_cached_key(|v| super::version_order(v));
        assert_eq!(
            versions,
            [
                "GCC_3.0",
                "GCC_4.2.0",
                "GLIBC_2.2.5",
                "GLIBC_2.14",
                "GLIBC_2.34",
                "GLIBC_PRIVATE"
            ]
        );
    }
}
