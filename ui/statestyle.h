#pragma once

#include <QColor>
#include <QIcon>
#include <QString>
#include <QStringList>

namespace SiteRelay {

/**
 * How task states and alert severities look: a label, a colour from the Okabe–Ito palette (told
 * apart by the common forms of colour blindness) and an icon whose shape differs per state, so
 * colour is never the only cue. GUI thread only (icons are painted on first use and cached).
 */
class StateStyle
{
public:
    /// Every task state, in the order of the filters: pending … cancelled.
    static QStringList states();
    /// "Pending", "Timed out", … ; the raw name for an unknown state.
    static QString label(const QString &state);
    static QColor color(const QString &state);
    /// A light tint of color() for cell backgrounds; black text stays readable on it.
    static QColor tint(const QString &state);
    static QIcon icon(const QString &state);
    /// What the state means for the coordinator, for tooltips.
    static QString description(const QString &state);

    static QColor severityColor(const QString &severity);
    static QIcon alertIcon(const QString &severity, bool acknowledged);
};

} // namespace SiteRelay
