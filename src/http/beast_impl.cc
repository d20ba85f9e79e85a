// Beast is compiled once, here (BOOST_BEAST_SEPARATE_COMPILATION), instead of
// in every file that includes it; only http_connection.cc instantiates its
// templates.
#include <boost/beast/src.hpp>
