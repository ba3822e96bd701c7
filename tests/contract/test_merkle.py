"""SPEC §14: the ledger's Merkle tree is RFC 9162 §2.1's, checked against published vectors."""

from __future__ import annotations

import base64

import pytest

from ledger.contract.merkle import (
    EMPTY_ROOT,
    Frontier,
    HashAt,
    ProofInvalid,
    ProofRequestInvalid,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    root_from_stored,
    verify_consistency,
    verify_inclusion,
)

# --- Known answers -------------------------------------------------------------------------------
# Hasher vectors: transparency-dev/merkle, rfc6962/rfc6962_test.go (TestRFC6962Hasher).
HASHER_EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
HASHER_EMPTY_LEAF = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
HASHER_LEAF_L123456 = "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
HASHER_NODE_N123_N456 = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"

# The eight leaves of Certificate Transparency's reference tests, the roots of the trees of sizes
# 1 … 8, and proofs among them: transparency-dev/merkle, proof/verify_test.go (`leaves`, `roots`,
# `inclusionProofs`, `consistencyProofs`; its inclusion vectors count leaves from 1, ours from 0).
CT_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION_PROOFS = [  # (leaf index from 0, tree size, proof hashes)
    (0, 1, ""),
    (0, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
           " 5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
           " 6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    (5, 8, "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
           " ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
           " d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    (2, 3, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    (1, 5, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
           " 5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
           " bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
]
CT_CONSISTENCY_PROOFS = [  # (first size, second size, proof hashes)
    (1, 1, ""),
    (1, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
           " 5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
           " 6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    (6, 8, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
           " ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
           " d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    (2, 5, "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
           " bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    (6, 7, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
           " b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"
           " d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
]

# A real Certificate Transparency log (Google Argon 2020): its tree head, the entry at index
# 10000 with its audit path, and a consistency proof from size 3654490. golang/mod,
# sumdb/tlog/testdata/argon2020/{sth,entries,proof,consistency}.json and ct_test.go (old root).
ARGON_SIZE = 961984013
ARGON_ROOT = "dwlueapdd7LaOEnX2W2Wp9v2XE+KzejHRQGHwEx0oaM="
ARGON_LEAF_INDEX = 10000
ARGON_LEAF_INPUT = (
    "AAAAAAFelPhqUwAAAAViMIIFXjCCBEagAwIBAgIRAOodHzZdqWIFzYyl/SovhCMwDQYJKoZIhvcNAQELBQAwgZAxCzAJ"
    "BgNVBAYTAkdCMRswGQYDVQQIExJHcmVhdGVyIE1hbmNoZXN0ZXIxEDAOBgNVBAcTB1NhbGZvcmQxGjAYBgNVBAoTEUNP"
    "TU9ETyBDQSBMaW1pdGVkMTYwNAYDVQQDEy1DT01PRE8gUlNBIERvbWFpbiBWYWxpZGF0aW9uIFNlY3VyZSBTZXJ2ZXIg"
    "Q0EwHhcNMTcwMjE1MDAwMDAwWhcNMjAwNDE2MjM1OTU5WjBfMSEwHwYDVQQLExhEb21haW4gQ29udHJvbCBWYWxpZGF0"
    "ZWQxHTAbBgNVBAsTFFBvc2l0aXZlU1NMIFdpbGRjYXJkMRswGQYDVQQDDBIqLmxhbmRsb3Jkcy5jb20uYXUwggEiMA0G"
    "CSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCtPBKKHj4zdrGlCjgTHzb5gx9JCs97DwvBz60f14gDufF2haWbOxyJ0a3o"
    "pAMsZnOr8HkARVCwxdqG/PTfACcb0QM7FOlzvxGqxataTYiChwvkkif8F9GlJw69HuHgzhusPf1Ytfk3ps1PRC14Mkyr"
    "S4kwPrk/Le4XdkqRpRw62wG4V6IkbzsNMEOl1H8EgUbfyapdOcVxHjIzvBVy56fBRKG05Fr5wNq3Acak5kYZdNsLhhml"
    "rqAfAjiombW3hb3V5blJdRC0BDdYHv2+zKey6LqJ1FDoXo6IzbzPpC+aifZy47YX+/N1U64Qn5xlDg7mOP8JXfkNJHbU"
    "1TJZHif5AgMBAAGjggHhMIIB3TAfBgNVHSMEGDAWgBSQr2o6lFoL2JDqElZz30O0Oija5zAdBgNVHQ4EFgQUNQSLjkoz"
    "01I+iuuoC5lgEp0anhcwDgYDVR0PAQH/BAQDAgWgMAwGA1UdEwEB/wQCMAAwHQYDVR0lBBYwFAYIKwYBBQUHAwEGCCsG"
    "AQUFBwMCME8GA1UdIARIMEYwOgYLKwYBBAGyMQECAgcwKzApBggrBgEFBQcCARYdaHR0cHM6Ly9zZWN1cmUuY29tb2Rv"
    "LmNvbS9DUFMwCAYGZ4EMAQIBMFQGA1UdHwRNMEswSaBHoEWGQ2h0dHA6Ly9jcmwuY29tb2RvY2EuY29tL0NPTU9ET1JT"
    "QURvbWFpblZhbGlkYXRpb25TZWN1cmVTZXJ2ZXJDQS5jcmwwgYUGCCsGAQUFBwEBBHkwdzBPBggrBgEFBQcwAoZDaHR0"
    "cDovL2NydC5jb21vZG9jYS5jb20vQ09NT0RPUlNBRG9tYWluVmFsaWRhdGlvblNlY3VyZVNlcnZlckNBLmNydDAkBggr"
    "BgEFBQcwAYYYaHR0cDovL29jc3AuY29tb2RvY2EuY29tMC8GA1UdEQQoMCaCEioubGFuZGxvcmRzLmNvbS5hdYIQbGFu"
    "ZGxvcmRzLmNvbS5hdTANBgkqhkiG9w0BAQsFAAOCAQEACyHqxUzrexToY7tOv4+kyGPP2D27P1tQpyzeAl1bPObiMhNK"
    "2b9vvBLDWAaqm8c0YL1h+DBdLoWzf3xFsIkTCVCjWJTNSNlcYtgRk6or1s7jWsfXzWqsnPjPPmTIOCw7EfH7Yme3oxPs"
    "3UUsmShAgPwNohAtL9GqlqMiKM6v1WU3NHt01jEoNP23LRa6KeNK6AH6WHJykzL223IlhgXjHTeuQj6lR+TNrQXJuhwT"
    "XYe+20rrpPQxc1Pn7AqnvfWgmicRQ7gdIcr4V6+ecTvLfNOaJ0ZYe5G5giuAAdTm7F57pk04f4gyZNYKrj88mvbkoriN"
    "8b6jcWExtrYO6bm2TwAA"
)
ARGON_AUDIT_PATH_HEAD = [
    "T46AmJsuOM/gFiGlUp+IJJebp+1Z5qratFNW7U0JyOQ=", "9Jj1Feodn42uRYEfffkV4HF/EIPFQ5Zo9IwkxbQ2uhk=",
    "D53/1oCNebF4J59HHgioovKZxrmrKcVuCVhy3Izg8Ck=", "wSFDgGSrsXRPA+1c8WHoAFCsWeUv8NDyP/Q/SgsyVyY=",
    "516/RcwsgdwdzHn18v1dJHqBkgFUbNhmCIWOGjsMJaE=", "naTFY2ajLFgrgs5XUl+zJYZnnlJksLGsA1VYwpLfqbY=",
    "mKBRJo6qao+0Kdh/rhGkZUbHUAxMhrtrclrTpIbNjIg=", "Co4ueOFE7lpifLio94irxxsv1wFMMaK3tPu2ZQkHlro=",
    "yRgy800K6JMYCC05sWfqF2kvCg2riT/pVM+nEa6V5+0=", "n2O38XJZC8/Wpbwi9HhgVizlUyeUHVZvYyQB1607MRc=",
    "go3tAjuNfNSCj87y2Rg1xOroDknGN1eaf3cgvzObf7Q=", "8D0Mj3/J7ySSnFb0afIHYXv6rlOhECnsebY6XKi1IR8=",
    "6rcez46ZU8M5vPiWVMAUfJfAOV0pPP/mch/lYzZhj/M=", "2rtIeXrPvSdUyHc5maIgSAVB2BzaKaupWxSAiVayDE4=",
    "nniW/IMFQPN5xw8UsHFn7CRStYbm1gLu7NNa6kkRqJQ=", "mRPPi7sQS22MduIEyvcNzCNFqIt6kLwYPkNKrVtIcu8=",
    "JvTivzESNS9wHI8aph5a7uieVmtS/p9PciMZ5D6GyOo=", "UTyQd+Ym0wY4zG+qK806bBORwi1CSVvFQ/KknnqoZj8=",
    "hXODrqN+ff+U6zPqRQ+ZQKs6im1fPcxIerDSfNwflhE=", "II6GE+WY/DrpZzfHztLwkR46o37zVkNLCyPYlf68zA0=",
    "d609kWWcNBllbA8Jb/ad4XAVVGnScLRmtP8FYyr+Dck=", "rikBsP0G0gioXRpBFED2CzQdSLrGPvRd0bEcbEZw1rI=",
]
ARGON_OLD_SIZE = 3654490
ARGON_OLD_ROOT = "AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ="
ARGON_CONSISTENCY_HEAD = [
    "80Sfbj6UQEdVSZCSIgh9NMPj3vCBzcc1A48B2crJSWg=", "FZcrgAHUk6nNPviJZq8kEK6jCG1d18pJOFE45ZDc1TQ=",
    "Q67reWXmPBo1UfmwBap4Xi9PMPfFdUSSw3WGlRZdG7k=", "eJ7CyhR4PxzBxDIsWgrVYW1eFUb9ndgf46tFmiqVrxA=",
    "QrDwp062Grm5WY8KdrhFsBuuNjGzRox2Jb8PmVL5OYw=", "XM4YMjMEdLH/XJam/ZWyaP14k3cmsOtnPsOWQ54lW1s=",
    "SGiBh+jOTGccXU48ZzgQ88lRcBmtB4wz4oSDndv2QTg=", "WAS6txqNLYKGL1GdBdpqmV42TTfn6cJsuDsqLXuTCNI=",
    "QFmRS0rirUA7ZN3lxFjDncV+E1OCrn3NUB4RCp+5fzc=", "Hdbp7It2XBNZmNDBpCN/KPd7vfVqxgzwOosqVIaEA9E=",
    "mxvHL0ZiblBdD7j7pIa1jlfB0gSqfJ6oX0UGo7L0VsU=", "q5hjyvoW6TL/PThgcitpDcSTrnKX2p1+aqscqH2euRA=",
    "jTOWDqt3IHj2NVFeezyBz2ofpru+ztEywqKUAfFclKI=", "GIRn0w3HqJdvU9j1WVD//eR6lk2AaTVjyzjsJNP8U88=",
    "x52GJvxG81fnQBrgOTbll1A5tz95/LXK0Ag1NhB0r1I=", "6/0OqrcTgc3o5dD5PymmoC96lB9yLPFuTHVvLy8fSGk=",
    "Gf+iKLfcXO5l4JEFmsZvSdG5q1uEeWPfYLrds6pmjz0=", "DGuaco+McyM3AfRSF6qX7RwSetwe2ieYJmxw5e9rVx0=",
    "2tQJ9V32hnYp+fdpP6TcjmgJmLeNVOMKM0Ml1kk4cNU=", "3PapK+IkyJr8I9yAErAmzuZezzLMzsg+PfeRCgNW8NQ=",
    "s6xiYeejb+wtqHA+URJZ2I/SCPyIW8coP6aB00FJbMY=", "z9lSpmdTcr5M5ZzKlc4EPh3SrSypKFdk6JUF/UccaZU=",
]
# Both Argon proofs end in the same eight hashes: the right side of the tree, beyond both leaves.
ARGON_SHARED_TAIL = [
    "GXIElfmnRuWfbA4z7ubV/UwlpSRUbUeec7oL5HDDnh0=", "pR0SH/NYP6s9+8azWwaeUXA4Ze/3WCIgMfh5YW6wvcE=",
    "f3GuAKYVrF8RBg3s15jvA/YvV9oAliWtzP/imwPhQVA=", "WHn8zDxlVgkV+lSlmzaOdfSBrTHoRr5nT3d76q0KKWE=",
    "f2uV2ZxVgULzLPKuZcowRY3ZY7fRlX59iDBjV1R8kNQ=", "NzQVjJsvQwbi7WStMr9oFkh9VbHfK7LB6o7WwAqwNTs=",
    "C0LttBeYHZHgL+032JIcJC3CTBIyza/hsbmJUgJfmDI=", "nixU5CWTFVDlF4BGdcU6kA7WSYurEpe9jRWc+F/7sOc=",
]


def unhex(hashes: str) -> list[bytes]:
    """Hex hashes separated by spaces, as the CT vectors are written above."""
    return [bytes.fromhex(h) for h in hashes.split()]


def unbase64(hashes: list[str]) -> list[bytes]:
    return [base64.b64decode(h) for h in hashes]


CT_LEAF_HASHES = [leaf_hash(bytes.fromhex(data)) for data in CT_LEAVES]


# --- A node store as the storage layer keeps it ---------------------------------------------------
class NodeStore:
    """Every leaf hash and every interior node the frontier reported, nothing else."""

    def __init__(self, leaf_hashes: list[bytes]) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.frontier = Frontier()
        for index, hash_ in enumerate(leaf_hashes):
            self.nodes[(0, index)] = hash_
            for level, node_index, node in self.frontier.append(hash_):
                assert (level, node_index) not in self.nodes, "a node was reported twice"
                self.nodes[(level, node_index)] = node

    def reader(self, size: int, calls: list[tuple[int, int]] | None = None) -> HashAt:
        """`hash_at` for the tree of `size` leaves: asking for a node beyond it is a bug."""
        def hash_at(level: int, index: int) -> bytes:
            assert (index + 1) << level <= size, f"node ({level}, {index}) is beyond size {size}"
            if calls is not None:
                calls.append((level, index))
            return self.nodes[(level, index)]

        return hash_at


CT_STORE = NodeStore(CT_LEAF_HASHES)


def flip_bit(proof: list[bytes], position: int, mask: int, byte: int = 0) -> list[bytes]:
    """A copy of `proof` with `mask` flipped in one byte of one hash."""
    corrupted = list(proof)
    hash_ = corrupted[position]
    corrupted[position] = hash_[:byte] + bytes([hash_[byte] ^ mask]) + hash_[byte + 1 :]
    return corrupted


# --- Hashing -------------------------------------------------------------------------------------
def test_hashes_match_the_rfc6962_hasher_vectors() -> None:
    assert EMPTY_ROOT.hex() == HASHER_EMPTY_ROOT
    assert leaf_hash(b"").hex() == HASHER_EMPTY_LEAF
    assert leaf_hash(b"L123456").hex() == HASHER_LEAF_L123456
    assert node_hash(b"N123", b"N456").hex() == HASHER_NODE_N123_N456


def test_roots_of_the_ct_trees_of_sizes_0_to_8() -> None:
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    for size in range(1, 9):
        assert root_from_leaf_hashes(CT_LEAF_HASHES[:size]).hex() == CT_ROOTS[size - 1]


def test_frontier_root_and_stored_root_match_the_ct_roots_at_every_size() -> None:
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for size, hash_ in enumerate(CT_LEAF_HASHES, start=1):
        frontier.append(hash_)
        assert frontier.size == size
        assert frontier.root().hex() == CT_ROOTS[size - 1]
        assert root_from_stored(size, CT_STORE.reader(size)).hex() == CT_ROOTS[size - 1]


def test_append_reports_the_interior_nodes_it_completed() -> None:
    frontier = Frontier()
    assert frontier.append(CT_LEAF_HASHES[0]) == []
    assert frontier.append(CT_LEAF_HASHES[1]) == [(1, 0, bytes.fromhex(CT_ROOTS[1]))]
    assert frontier.append(CT_LEAF_HASHES[2]) == []
    completed = frontier.append(CT_LEAF_HASHES[3])
    assert [(level, index) for level, index, _ in completed] == [(1, 1), (2, 0)]
    assert completed[-1][2].hex() == CT_ROOTS[3]


def test_frontier_rebuilt_from_stored_nodes_carries_on_like_the_original() -> None:
    rebuilt = Frontier.from_stored(5, CT_STORE.reader(5))
    assert rebuilt.size == 5
    assert [(level, index) for level, index, _ in rebuilt.nodes] == [(2, 0), (0, 4)]
    for size in range(6, 9):
        rebuilt.append(CT_LEAF_HASHES[size - 1])
        assert rebuilt.root().hex() == CT_ROOTS[size - 1]


def test_a_leaf_hash_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Frontier().append(b"short")


# --- Inclusion proofs ---------------------------------------------------------------------------
@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION_PROOFS)
def test_inclusion_proofs_match_the_ct_vectors(index: int, size: int, proof: str) -> None:
    assert inclusion_proof(index, size, CT_STORE.reader(size)) == unhex(proof)
    root = bytes.fromhex(CT_ROOTS[size - 1])
    verify_inclusion(index, size, CT_LEAF_HASHES[index], unhex(proof), root)


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION_PROOFS[1:])
def test_corrupted_ct_inclusion_proofs_are_refused(index: int, size: int, proof: str) -> None:
    # The probes of transparency-dev/merkle's corruptInclusionProof, as far as they apply.
    good = unhex(proof)
    root = bytes.fromhex(CT_ROOTS[size - 1])
    leaf = CT_LEAF_HASHES[index]
    probes: list[tuple[int, int, bytes, list[bytes], bytes]] = [
        (index + 1, size, leaf, good, root),
        (index ^ 2, size, leaf, good, root),
        (index, size * 2, leaf, good, root),
        (index, size // 2, leaf, good, root),
        (index, size, CT_LEAF_HASHES[(index + 1) % 8], good, root),
        (index, size, leaf, good, EMPTY_ROOT),
        (index, size, leaf, [*good, root], root),
        (index, size, leaf, [root, *good], root),
        (index, size, leaf, good[:-1], root),
        (index, size, leaf, [*good, b""], root),
        *[(index, size, leaf, flip_bit(good, position, 8), root) for position in range(len(good))],
    ]
    if index > 0:
        probes.append((index - 1, size, leaf, good, root))
    for probe in probes:
        with pytest.raises(ProofInvalid):
            verify_inclusion(*probe)


def test_the_argon2020_inclusion_proof_verifies() -> None:
    proof = unbase64(ARGON_AUDIT_PATH_HEAD + ARGON_SHARED_TAIL)
    leaf = leaf_hash(base64.b64decode(ARGON_LEAF_INPUT))
    root = base64.b64decode(ARGON_ROOT)
    verify_inclusion(ARGON_LEAF_INDEX, ARGON_SIZE, leaf, proof, root)
    with pytest.raises(ProofInvalid, match="does not lead to the root"):
        verify_inclusion(ARGON_LEAF_INDEX + 1, ARGON_SIZE, leaf, proof, root)


def test_inclusion_verification_names_what_failed() -> None:
    root = bytes.fromhex(CT_ROOTS[7])
    with pytest.raises(ProofInvalid, match="leaf index 8 is not in a tree of size 8"):
        verify_inclusion(8, 8, CT_LEAF_HASHES[0], [], root)
    with pytest.raises(ProofInvalid, match="too few"):
        verify_inclusion(0, 8, CT_LEAF_HASHES[0], [], root)
    with pytest.raises(ProofInvalid, match="leaf hash has 4 bytes"):
        verify_inclusion(0, 1, b"leaf", [], root)


def test_an_inclusion_proof_outside_the_tree_is_not_computed() -> None:
    with pytest.raises(ProofRequestInvalid, match="leaf index 8 is not in a tree of size 8"):
        inclusion_proof(8, 8, CT_STORE.reader(8))


# --- Consistency proofs -------------------------------------------------------------------------
@pytest.mark.parametrize(("first", "second", "proof"), CT_CONSISTENCY_PROOFS)
def test_consistency_proofs_match_the_ct_vectors(first: int, second: int, proof: str) -> None:
    assert consistency_proof(first, second, CT_STORE.reader(second)) == unhex(proof)
    verify_consistency(
        first, second, bytes.fromhex(CT_ROOTS[first - 1]), bytes.fromhex(CT_ROOTS[second - 1]),
        unhex(proof),
    )


@pytest.mark.parametrize(("first", "second", "proof"), CT_CONSISTENCY_PROOFS[1:])
def test_corrupted_ct_consistency_proofs_are_refused(
    first: int, second: int, proof: str
) -> None:
    # The probes of transparency-dev/merkle's corruptConsistencyProof.
    good = unhex(proof)
    root1 = bytes.fromhex(CT_ROOTS[first - 1])
    root2 = bytes.fromhex(CT_ROOTS[second - 1])
    probes: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (first - 1, second, root1, root2, good),
        (first + 1, second, root1, root2, good),
        (first ^ 2, second, root1, root2, good),
        (first, second * 2, root1, root2, good),
        (first, second // 2, root1, root2, good),
        (first, second, EMPTY_ROOT, root2, good),
        (first, second, root1, EMPTY_ROOT, good),
        (first, second, root2, root1, good),
        (first, second, root1, root2, []),
        (first, second, root1, root2, [*good, root1]),
        (first, second, root1, root2, [*good, root2]),
        (first, second, root1, root2, [root1, *good]),
        (first, second, root1, root2, [root2, *good]),
        (first, second, root1, root2, [good[0], *good]),
        (first, second, root1, root2, good[:-1]),
        (first, second, root1, root2, [b"", *good]),
        *[(first, second, root1, root2, flip_bit(good, at, 16)) for at in range(len(good))],
    ]
    for probe in probes:
        with pytest.raises(ProofInvalid):
            verify_consistency(*probe)


def test_the_argon2020_consistency_proof_verifies() -> None:
    proof = unbase64(ARGON_CONSISTENCY_HEAD + ARGON_SHARED_TAIL)
    old_root = base64.b64decode(ARGON_OLD_ROOT)
    root = base64.b64decode(ARGON_ROOT)
    verify_consistency(ARGON_OLD_SIZE, ARGON_SIZE, old_root, root, proof)
    with pytest.raises(ProofInvalid):
        verify_consistency(ARGON_OLD_SIZE + 1, ARGON_SIZE, old_root, root, proof)


def test_trivial_consistency_cases_of_transparency_dev() -> None:
    # transparency-dev/merkle, proof/verify_test.go, TestVerifyConsistency (the size-only cases).
    root1 = bytes.fromhex(CT_ROOTS[0])
    root2 = bytes.fromhex(CT_ROOTS[1])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 1, EMPTY_ROOT, root1, [])
    verify_consistency(1, 1, root1, root1, [])
    refused = [
        (0, 0, EMPTY_ROOT, root2, []),
        (1, 1, root1, root2, []),
        (1, 0, root1, root2, []),
        (2, 1, root1, root2, []),
        (1, 2, root1, root2, []),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        (0, 1, EMPTY_ROOT, root1, [EMPTY_ROOT]),
        (1, 1, root1, root1, [EMPTY_ROOT]),
        (0, 1, root1, root1, []),
    ]
    for first, second, first_root, second_root, proof in refused:
        with pytest.raises(ProofInvalid):
            verify_consistency(first, second, first_root, second_root, proof)


def test_a_consistency_proof_backwards_is_not_computed() -> None:
    with pytest.raises(ProofRequestInvalid, match="from size 5 to size 3"):
        consistency_proof(5, 3, CT_STORE.reader(5))
    assert consistency_proof(0, 8, CT_STORE.reader(8)) == []
    assert consistency_proof(8, 8, CT_STORE.reader(8)) == []
