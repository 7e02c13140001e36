#pragma once

#include "error.h"

#include <optional>
#include <utility>
#include <variant>

namespace SiteRelay {

/**
 * A value or an Error: what core calls return instead of throwing, so results cross threads
 * and futures as plain values.
 */
template <typename T>
class [[nodiscard]] Expected
{
public:
    Expected(T value)
        : m_state(std::in_place_index<0>, std::move(value))
    {}
    Expected(Error error)
        : m_state(std::in_place_index<1>, std::move(error))
    {}

    bool hasValue() const { return m_state.index() == 0; }
    explicit operator bool() const { return hasValue(); }

    const T &value() const & { return std::get<0>(m_state); }
    T &value() & { return std::get<0>(m_state); }
    T &&value() && { return std::get<0>(std::move(m_state)); }
    const T &operator*() const & { return value(); }
    const T *operator->() const { return &value(); }
    T *operator->() { return &value(); }

    const Error &error() const { return std::get<1>(m_state); }

private:
    std::variant<T, Error> m_state;
};

/// For calls that succeed with nothing to return.
struct Done
{
};

} // namespace SiteRelay
