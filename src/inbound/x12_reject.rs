//! Why an inbound X12 group is rejected, in the terms of a 997 Functional Acknowledgment
//! (004010): the transaction set (AK2), the segment (AK3) and element (AK4) at fault, and the
//! set (AK5) and group (AK9) error codes. Written by [`super::x12_ack::functional_ack`].
//!
//! Codes (X12 004010 element 718 for AK5, 716 for AK9, 720 for AK3, 723 for AK4):
//! - AK5: `1` set not supported, `2` trailer missing, `3` control numbers do not match, `4`
//!   segment count wrong, `5` one or more segments in error.
//! - AK9: `1` functional group not supported, `3` trailer missing, `4` control numbers do not
//!   match, `5` set count wrong; `5` is also used here (no better code) when the interchange
//!   trailer (IEA) disagrees with the ISA.
//! - AK3: `3` mandatory segment missing, `8` segment has data element errors.
//! - AK4: `1` mandatory element missing, `6` invalid character, `7` invalid code value.

/// A transaction set named in a 997 (ST01, ST02).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetRef {
    pub id: String,
    pub control: String,
}

/// AK5 (and AK2's set) codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCode {
    NotSupported,
    TrailerMissing,
    ControlNumberMismatch,
    SegmentCountMismatch,
    SegmentsInError,
}

impl SetCode {
    pub fn code(self) -> &'static str {
        match self {
            SetCode::NotSupported => "1",
            SetCode::TrailerMissing => "2",
            SetCode::ControlNumberMismatch => "3",
            SetCode::SegmentCountMismatch => "4",
            SetCode::SegmentsInError => "5",
        }
    }
}

/// AK9 codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupCode {
    NotSupported,
    TrailerMissing,
    ControlNumberMismatch,
    SetCountMismatch,
    /// The IEA disagrees with the ISA (reported as `5`, see the module notes).
    InterchangeMismatch,
}

impl GroupCode {
    pub fn code(self) -> &'static str {
        match self {
            GroupCode::NotSupported => "1",
            GroupCode::TrailerMissing => "3",
            GroupCode::ControlNumberMismatch => "4",
            GroupCode::SetCountMismatch | GroupCode::InterchangeMismatch => "5",
        }
    }
}

/// AK3 codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentCode {
    MandatoryMissing,
    ElementErrors,
}

impl SegmentCode {
    pub fn code(self) -> &'static str {
        match self {
            SegmentCode::MandatoryMissing => "3",
            SegmentCode::ElementErrors => "8",
        }
    }
}

/// AK4 codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementCode {
    MandatoryMissing,
    InvalidCharacter,
    InvalidCode,
}

impl ElementCode {
    pub fn code(self) -> &'static str {
        match self {
            ElementCode::MandatoryMissing => "1",
            ElementCode::InvalidCharacter => "6",
            ElementCode::InvalidCode => "7",
        }
    }
}

/// The segment at fault (AK3) and, within it, the element (AK4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentFault {
    pub id: String,
    /// Position in the transaction set, ST = 1.
    pub position: usize,
    pub code: SegmentCode,
    /// Element position (1-based), its code and the bad value.
    pub element: Option<(usize, ElementCode, String)>,
}

/// A rejected group: what the 997 says, and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub set: Option<(SetRef, SetCode)>,
    pub segment: Option<Box<SegmentFault>>,
    /// AK905, when the group's own envelope is at fault (a rejected set says it in AK5).
    pub group: Option<GroupCode>,
    pub message: String,
}

impl Rejection {
    /// A transaction set's envelope is wrong (the group is rejected with it).
    pub fn set(set: SetRef, code: SetCode, message: String) -> Rejection {
        Rejection { set: Some((set, code)), segment: None, group: None, message }
    }

    /// A segment of a set is wrong.
    pub fn segment(set: SetRef, fault: SegmentFault, message: String) -> Rejection {
        Rejection { set: Some((set, SetCode::SegmentsInError)), segment: Some(Box::new(fault)), group: None, message }
    }

    /// The group's or interchange's envelope is wrong.
    pub fn group(code: GroupCode, message: String) -> Rejection {
        Rejection { set: None, segment: None, group: Some(code), message }
    }
}
