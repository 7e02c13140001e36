#pragma once

// Placeholder; validation and scoring of answers are being written.
namespace SiteRelay {
class QuestionnaireScorer
{
};
} // namespace SiteRelay
