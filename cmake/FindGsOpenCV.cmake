# Finds the OpenCV components gstrain uses (core, imgproc, calib3d) from Debian's per-component
# -dev packages, which ship no OpenCVConfig.cmake (only libopencv-dev does, and it drags in GUI
# and video stacks). Defines the imported target gs::opencv. imgcodecs is deliberately not used:
# it pulls in GDAL and ~150 shared libraries; images go through stb (datasets/image_codec.h).
find_path(GsOpenCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
set(_gs_opencv_libs)
foreach(_c core imgproc calib3d)
  find_library(GsOpenCV_${_c}_LIBRARY opencv_${_c})
  list(APPEND _gs_opencv_libs GsOpenCV_${_c}_LIBRARY)
endforeach()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(GsOpenCV
  REQUIRED_VARS GsOpenCV_INCLUDE_DIR ${_gs_opencv_libs}
  FAIL_MESSAGE "OpenCV (core, imgproc, calib3d) not found: run scripts/install_deps.sh")
if(GsOpenCV_FOUND AND NOT TARGET gs::opencv)
  add_library(gs::opencv INTERFACE IMPORTED)
  set_target_properties(gs::opencv PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${GsOpenCV_INCLUDE_DIR}")
  foreach(_c core imgproc calib3d)
    set_property(TARGET gs::opencv APPEND PROPERTY INTERFACE_LINK_LIBRARIES "${GsOpenCV_${_c}_LIBRARY}")
  endforeach()
endif()
